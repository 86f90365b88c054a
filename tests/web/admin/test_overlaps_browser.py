"""A curator in a real browser (chromium): from the list of overlapping speech, add the remark heard under the
testimony, find it by search, and make an excerpt of it. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.config import Settings
from archive.db.models import Overlap, Segment, Speaker
from archive.search.index import index_meeting
from tests.factories.accounts import PASSWORD, add_user
from tests.factories.browser import SCREENSHOTS
from tests.factories.meetings import Line, add_meeting, timed
from tests.factories.server import served_in_thread

pytestmark = pytest.mark.slow

SLUG = "2024-02-07-hot-mic"
REMARK = "You're fucking here illegally and you're worried about being safe?"


@pytest.fixture
def site(tmp_path: Path, app_for):  # type: ignore[no-untyped-def]

    from archive.home import init_home

    home = tmp_path / "home"
    home.mkdir()
    settings = Settings(home=home)
    sessions = init_home(settings)
    add_user(sessions, "curator", "cora@example.org")
    add_meeting(
        sessions,
        SLUG,
        [
            Line("Now I am afraid every time I drive.", 28.9, 35.6, "SPEAKER_00", label_only=True),
            Line("Please pass this policy.", 39.2, 40.4, "SPEAKER_00", label_only=True),
        ],
    )
    with sessions() as session, session.begin():
        for segment in session.scalars(select(Segment)):
            segment.words = timed(segment.text, segment.start)
        session.add(Speaker(meeting_id=segment.meeting_id, label="SPEAKER_01", turns=[[29.7, 32.8]]))
        session.add(Overlap(meeting_id=segment.meeting_id, start=29.7, end=32.8, voices=["SPEAKER_00", "SPEAKER_01"]))
    app = app_for(settings)
    with sessions() as session:
        index_meeting(app.extensions["search"], session, SLUG)
    with served_in_thread(app, threads=4) as address:
        yield address
    sessions.kw["bind"].dispose()


def test_add_an_overlapping_line_find_it_and_excerpt_it(site, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    base = site
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(f"{base}/login")
    page.fill("#login-email", "cora@example.org")
    page.fill("#login-password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/admin")

    page.goto(f"{base}/admin/overlaps")
    row = page.locator("tr", has_text="2 voices at 0:00:29–0:00:32")
    expect(row).to_have_count(1)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-overlaps.png"), full_page=True)
    row.locator("text=Add an overlapping line").click()
    page.wait_for_url(re.compile(r".*/lines/new\?overlap=\d+$"))
    expect(page.locator("#start")).to_have_value("29.7")
    page.fill("#text", REMARK)
    page.fill("#tags", "hot-mic")
    expect(page.locator("#kind")).to_have_value("remark")
    page.screenshot(path=str(SCREENSHOTS / "admin-overlapping-line.png"), full_page=True)
    page.click("main button[type=submit]")

    page.wait_for_url(re.compile(rf".*/meetings/{SLUG}#s\d+$"))
    line_id = page.url.rsplit("#", 1)[1]
    added = page.locator(f"#{line_id}")
    expect(added).to_contain_text("illegally")
    expect(added.locator(".provenance")).to_have_text("transcribed by a curator from the recording")
    expect(added.locator("a.overlapping")).to_contain_text("said at the same time as the line at 0:00:28")

    page.goto(f"{base}/search?q=illegally")
    hit = page.locator(f"main a[href*='/meetings/{SLUG}']").first
    expect(hit).to_be_visible()
    expect(page.locator("main")).to_contain_text("Speaker 2")  # SPEAKER_01, by its neutral label

    page.goto(f"{base}/meetings/{SLUG}")
    page.locator("#make-excerpt-summary").click()
    page.fill("#excerpt-start", "29.7")
    page.fill("#excerpt-end", "32.8")
    page.fill("#excerpt-title", "The remark")
    page.locator("#excerpt-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/excerpts/[a-z0-9]+$"))
    expect(page.locator("main")).to_contain_text("illegally")
    page.screenshot(path=str(SCREENSHOTS / "excerpt-overlapping-line.png"), full_page=True)
