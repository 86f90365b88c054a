"""The meeting page in two languages (SQLite; the dialect does not matter here): each line's lang, a captions
track per language, untranscribed speech listed, and a curator confirming an interpretation (CSRF, a revision)."""

from __future__ import annotations

import datetime as dt

import pytest
import webvtt
from sqlalchemy import select

from archive.db.models import Recording, Revision, Segment, TranscriptionRun
from archive.ingest.interpretations import suggest_interpretations
from archive.search.index import index_meeting
from tests.factories.accounts import csrf_token, sign_in
from tests.factories.meetings import Line, add_meeting

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SLUG = "2024-03-06-interpreted-testimony"
GAP = {"start": 31.0, "end": 38.0, "reason": "speech not transcribed — French? re-run with --languages en,es,fr"}


@pytest.fixture
def site(settings, sessions, app_for):  # type: ignore[no-untyped-def]
    lines = [
        Line("Me llamo María y trabajo en una granja.", 6.0, 10.0, "María", "public commenter", language="es"),
        Line("My name is Maria and I work on a farm.", 11.0, 15.0, "Ana", "interpreter"),
        Line("Thank you, María.", 28.0, 30.0, "Chair Anne", "chair"),
    ]
    meeting_id = add_meeting(sessions, SLUG, lines, date=dt.date(2024, 3, 6))
    with sessions() as session, session.begin():
        suggest_interpretations(session, meeting_id)
        run = session.scalars(select(TranscriptionRun).join(Recording)).one()
        run.gaps = [{**GAP, "language": "fr"}]
        ids = list(session.scalars(select(Segment.id).order_by(Segment.start)))
    app = app_for(settings)
    with sessions() as session:
        index_meeting(app.extensions["search"], session, SLUG)
    return app.test_client(), ids


def test_lines_carry_their_language_and_each_language_has_a_track(site) -> None:  # type: ignore[no-untyped-def]
    client, ids = site
    html = client.get(f"/meetings/{SLUG}").get_data(as_text=True)
    assert f'id="s{ids[0]}" lang="es"' in html and f'id="s{ids[1]}" lang="en"' in html
    assert f'srclang="es" label="Spanish" src="/meetings/{SLUG}.vtt?lang=es"' in html
    assert "0:00:31–0:00:38</a>: speech not transcribed — French? re-run with --languages en,es,fr" in html
    assert "Interpretation into" not in html  # a suggestion is not shown to the public
    spanish = client.get(f"/meetings/{SLUG}.vtt?lang=es")
    assert [caption.text for caption in webvtt.from_string(spanish.get_data(as_text=True))] == [
        "Me llamo María y trabajo en una granja."
    ]
    assert client.get(f"/meetings/{SLUG}.vtt?lang=spanish").status_code == 400
    found = client.get("/search?q=trabajar+OR+farm").get_data(as_text=True)
    assert '<p class="snippet" lang="es">Me llamo María y <mark>trabajo</mark>' in found
    assert "<h2>Language</h2>" in found and 'href="/search?q=trabajar+OR+farm&amp;lang=es&amp;page=1"' in found
    assert "<mark>trabajo</mark>" in client.get("/search?q=trabajar&lang=es").get_data(as_text=True)
    assert "No testimony matches" in client.get("/search?q=trabajar&lang=en").get_data(as_text=True)
    csv = client.get(f"/meetings/{SLUG}.csv").get_data(as_text=True).splitlines()
    assert csv[0].split(",")[7] == "language" and csv[1].split(",")[7] == "es"


def test_a_curator_confirms_the_suggested_interpretation(site, sessions) -> None:  # type: ignore[no-untyped-def]
    client, ids = site
    path = f"/admin/segments/{ids[1]}/interpretation"
    client.post(path, data={"sources": str(ids[0])})  # not signed in: refused
    with sessions() as session:
        assert session.scalars(select(Revision.action)).all() == []
    sign_in(client, sessions, "curator")
    html = client.get(f"/meetings/{SLUG}").get_data(as_text=True)
    assert f'action="{path}"' in html and f'name="sources" value="{ids[0]}"' in html
    assert client.post(path, data={"sources": str(ids[0])}).status_code == 400  # no CSRF token
    token = csrf_token(client, f"/meetings/{SLUG}")
    response = client.post(path, data={"sources": str(ids[0]), "csrf_token": token})
    assert response.status_code == 303
    html = client.get(f"/meetings/{SLUG}").get_data(as_text=True)
    assert f'Interpretation into English of <a href="#s{ids[0]}">the line above</a>' in html
    with sessions() as session:
        assert session.scalars(select(Revision.action)).all() == ["interpretation"]
    document = client.get(f"/api/meetings/{SLUG}").get_json()
    assert [line["interpretation_of"] for line in document["segments"]] == [[], [ids[0]], []]
    assert document["languages"] == ["en", "es"] and document["gaps"][0]["language"] == "fr"
