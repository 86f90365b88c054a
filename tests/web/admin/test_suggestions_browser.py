"""A curator confirms the machine's suggestion in a real browser (chromium): the public page shows the voice's
label before, the person's name after; a rejected suggestion is gone and names nobody."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from archive.config import Settings
from archive.db.models import Meeting, Person, Speaker
from tests.factories.accounts import PASSWORD, add_user
from tests.factories.meetings import Line, add_meeting
from tests.factories.server import served_in_thread

SLUG = "2024-02-07-public-comment"
CHAIR = "Walter Brennan-Oakes"


@pytest.fixture
def site(tmp_path: Path, app_for):  # type: ignore[no-untyped-def]

    from archive.home import init_home

    settings = Settings(home=tmp_path)
    sessions = init_home(settings)
    add_user(sessions, "curator", "cora@example.org")
    add_meeting(sessions, "2023-05-10-regular", [Line("Order, please.", 1.0, 2.0, CHAIR, "Council chair")])
    add_meeting(
        sessions,
        SLUG,
        [
            Line("I pick apples in Franklin County.", 20.0, 26.0, "a", label_only=True),
            Line("I drive a milk truck.", 30.0, 33.0, "b", label_only=True),
        ],
    )
    with sessions() as session, session.begin():
        chair = session.scalars(select(Person).where(Person.name == CHAIR)).one()
        voices = session.scalars(select(Speaker).join(Meeting).where(Meeting.slug == SLUG).order_by(Speaker.label))
        for voice, score in zip(voices, (0.81, 0.64), strict=True):
            voice.suggested_person_id, voice.suggestion_score = chair.id, score
    with served_in_thread(app_for(settings), threads=2) as address:
        yield address
    sessions.kw["bind"].dispose()


def test_confirming_and_rejecting_a_suggestion(site, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(f"{site}/meetings/{SLUG}")
    expect(page.locator(".voices")).not_to_contain_text("Brennan")
    expect(page.locator(".voices")).to_contain_text("Speaker 1")  # SPEAKER_00, by its neutral label

    page.goto(f"{site}/login")
    page.fill("#login-email", "cora@example.org")
    page.fill("#login-password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site}/admin")
    page.goto(f"{site}/admin/meetings/{SLUG}/speakers")
    suggestion = page.locator("#suggestion-SPEAKER_00")
    expect(suggestion).to_contain_text(f"The machine suggests {CHAIR}")
    expect(suggestion).to_contain_text("voice similarity 0.81")
    suggestion.get_by_role("button", name=f"Confirm: SPEAKER_00 is {CHAIR}").click()
    expect(page.locator(".notice")).to_contain_text(f"SPEAKER_00 is now {CHAIR}, confirmed by you")
    expect(page.locator("#suggestion-SPEAKER_00")).to_have_count(0)
    page.locator("#suggestion-SPEAKER_01").get_by_role("button", name=f"Reject: not {CHAIR}").click()
    expect(page.locator(".notice")).to_contain_text(f"SPEAKER_01 is not {CHAIR}")
    expect(page.locator("#suggestion-SPEAKER_01")).to_have_count(0)

    public = browser.new_context().new_page()
    public.goto(f"{site}/meetings/{SLUG}")
    voices = public.locator(".voices li")
    expect(voices.filter(has_text=CHAIR)).to_have_count(1)
    expect(voices.filter(has_text=CHAIR)).to_contain_text("curator's judgement")
    expect(voices.filter(has_text="Speaker 2")).to_contain_text("not yet identified")
    expect(public.locator(".turn").first).to_contain_text(CHAIR)
