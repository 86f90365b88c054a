"""Cards and Open Graph for the pages other than excerpts: meetings, campaigns, speakers (SQLite: no dialect here)."""

from __future__ import annotations

import datetime as dt
import io
import re
from html import unescape

import pytest
from PIL import Image
from sqlalchemy import select

from archive.db.models import CampaignExcerpt, Person
from archive.excerpts.cards import layout_card, meeting_card_text
from tests.factories.campaigns import MEETING, add_campaign_site

SQLITE = pytest.mark.parametrize("database_url", [""])
LONG_TITLE = "Regular meeting of the Joint Committee on Justice Oversight, Corrections and Public Safety " * 3


def tags(html: str) -> dict[str, str]:
    found = re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', html)
    return {name: unescape(value) for name, value in found}


def png(client, url: str) -> Image.Image:  # type: ignore[no-untyped-def]
    with client.get(url) as response:
        assert response.status_code == 200 and response.mimetype == "image/png", url
        return Image.open(io.BytesIO(response.get_data()))


def test_a_meeting_card_names_the_body_whatever_the_title() -> None:
    text = meeting_card_text(LONG_TITLE, "Vermont Criminal Justice Council", dt.date(2024, 2, 7), 3725.0, "Archive")
    lines = [line.text for line in layout_card(text).lines]
    assert "Vermont Criminal Justice Council" in lines and "1:02:05 of recording" in lines
    assert "7 February 2024" in lines and not any("“" in line for line in lines)  # a title, not a quote


@SQLITE
def test_meeting_campaign_and_speaker_pages_unfurl_with_a_card(sessions, runner, tmp_path, client) -> None:  # type: ignore[no-untyped-def]
    add_campaign_site(sessions, runner, tmp_path)
    meeting = tags(client.get(f"/meetings/{MEETING}").get_data(as_text=True))
    assert meeting["og:image"] == f"http://localhost/meetings/{MEETING}/card.png"
    assert meeting["twitter:card"] == "summary_large_image" and meeting["og:image:alt"].startswith("Card: Regular")
    assert png(client, f"/meetings/{MEETING}/card.png").size == (1200, 630)
    assert client.get("/meetings/no-such-meeting/card.png").status_code == 404

    campaign_html = client.get("/campaigns/safe-streets").get_data(as_text=True)
    campaign = tags(campaign_html)
    assert campaign["og:title"] == "Safe streets for everyone" and campaign["twitter:card"] == "summary_large_image"
    assert campaign["og:url"] == "http://localhost/campaigns/safe-streets"
    assert campaign["og:description"] == "A council member was heard on a hot mic."
    assert re.fullmatch(r"http://localhost/excerpts/[a-z0-9]{8}/card\.png", campaign["og:image"])  # its excerpt's
    assert campaign["og:image:alt"].startswith("Quote card: “You're here illegally")

    with sessions() as session:
        person_id = session.scalar(select(Person.id).where(Person.name == "Deputy Dan"))
    speaker = tags(client.get(f"/speakers/{person_id}").get_data(as_text=True))
    assert speaker["og:title"] == "Deputy Dan, member" and speaker["og:type"] == "profile"
    assert speaker["og:url"] == f"http://localhost/speakers/{person_id}"
    assert speaker["og:image"] == "http://localhost/card.png" and speaker["twitter:card"] == "summary_large_image"
    assert png(client, "/card.png").size == (1200, 630)


@SQLITE
def test_a_campaign_without_excerpts_shows_the_site_card(sessions, runner, tmp_path, client) -> None:  # type: ignore[no-untyped-def]
    add_campaign_site(sessions, runner, tmp_path)
    with sessions() as session, session.begin():
        for row in session.scalars(select(CampaignExcerpt)):
            session.delete(row)
    campaign = tags(client.get("/campaigns/safe-streets").get_data(as_text=True))
    assert campaign["og:image"] == "http://localhost/card.png"
