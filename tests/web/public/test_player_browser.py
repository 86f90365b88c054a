"""The meeting page's mini-player in Debian's chromium: it stays in view; its keys and speed work without a mouse."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from archive.db.models import Recording, Segment
from archive.media.store import MediaStore
from tests.factories.browser import SCREENSHOTS, assert_accessible
from tests.factories.media import encode, speech
from tests.factories.meetings import Line, add_meeting, timed
from tests.factories.server import served_in_thread

SLUG = "2024-02-07-council"
LINES = [
    Line("And so my fellow Americans", 0.5, 2.4, "Chair Ann", "chair"),
    Line("ask not what your country can do for you", 2.5, 5.4, "Deputy Dan", "member"),
    Line("ask what you can do for your country", 5.5, 8.4, "Chair Ann", "chair"),
    Line("Thank you.", 8.5, 10.0, "Deputy Dan", "member"),
]


@pytest.fixture
def served(sessions, settings, app):  # type: ignore[no-untyped-def]
    """A meeting of four lines over 11 s of real speech (jfk.flac as WAV), served by waitress on a free port."""

    add_meeting(sessions, SLUG, LINES, title="Regular meeting")
    with sessions() as session, session.begin():
        for segment in session.scalars(select(Segment)):
            segment.words = timed(
                segment.text, segment.start, (segment.end - segment.start) / len(segment.text.split())
            )
        session.scalars(select(Recording)).one().duration = 11.0
    target = MediaStore(settings.media_dir).path_for(hashlib.sha256(SLUG.encode()).hexdigest(), ".wav")
    target.parent.mkdir(parents=True, exist_ok=True)
    encode(speech()[: 11 * 16_000], target, "wav", "pcm_s16le")
    with served_in_thread(app, threads=2) as address:
        yield address


def state(page) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return page.evaluate(
        """() => { const m = document.querySelector('audio[data-player]');
        return {paused: m.paused, time: m.currentTime, rate: m.playbackRate,
                speaker: document.getElementById('mp-speaker').textContent,
                clock: document.getElementById('mp-time').textContent,
                said: document.getElementById('mp-status').textContent,
                speed: document.getElementById('mp-speed').value,
                button: document.getElementById('mp-play').textContent}; }"""
    )


@pytest.mark.parametrize("database_url", [""])  # SQLite: the page's script, not the dialect, is under test
def test_the_mini_player_stays_in_view_and_answers_its_keys(served, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 700}, bypass_csp=True)  # for axe-core
    page = context.new_page()
    page.goto(f"{served}/meetings/{SLUG}")
    page.wait_for_function("() => !document.getElementById('mini-player').hidden")
    page.wait_for_function("() => document.querySelector('audio[data-player]').readyState >= 1")
    assert state(page)["button"] == "Play" and state(page)["clock"].endswith("/ 0:00:11")

    # Keys only: space plays and pauses; j and → go to the next line, k and ← to the previous one.
    page.keyboard.press("Space")
    page.wait_for_function("() => !document.querySelector('audio[data-player]').paused")
    assert state(page)["button"] == "Pause"
    page.keyboard.press("Space")
    assert state(page)["paused"] is True
    page.keyboard.press("j")  # from before the first line: the first line
    assert state(page)["time"] == pytest.approx(0.5, abs=0.05) and state(page)["speaker"].startswith("Chair Ann")
    page.keyboard.press("j")
    now = state(page)
    assert now["time"] == pytest.approx(2.5, abs=0.05) and now["speaker"].startswith("Deputy Dan")
    assert now["said"].startswith("Line 2 of 4, Deputy Dan") and now["said"].endswith("at 0:00:02")
    page.keyboard.press("ArrowRight")
    assert state(page)["time"] == pytest.approx(5.5, abs=0.05) and state(page)["speaker"].startswith("Chair Ann")
    page.keyboard.press("k")
    assert state(page)["time"] == pytest.approx(2.5, abs=0.05)
    page.keyboard.press("ArrowLeft")
    assert state(page)["time"] == pytest.approx(0.5, abs=0.05) and "Line 1 of 4" in state(page)["said"]
    page.keyboard.press("ArrowLeft")  # there is no line before the first
    assert state(page)["time"] == pytest.approx(0.5, abs=0.05)

    # Speed: > and < step through 0.75–2×, and the select says so; the select itself works from the keyboard.
    page.keyboard.press(">")
    page.keyboard.press(">")
    assert (state(page)["rate"], state(page)["speed"]) == (1.5, "1.5")
    for _ in range(5):
        page.keyboard.press("<")
    assert (state(page)["rate"], state(page)["speed"]) == (0.75, "0.75")
    page.focus("#mp-speed")
    page.select_option("#mp-speed", "2")
    assert state(page)["rate"] == 2.0
    page.keyboard.press("j")  # keys meant for the select stay with it
    assert state(page)["time"] == pytest.approx(0.5, abs=0.05)

    # The buttons are reached and pressed with Tab and Enter; playing at 2× moves the time on.
    page.focus("#mp-next")
    page.keyboard.press("Enter")
    assert state(page)["time"] == pytest.approx(2.5, abs=0.05)
    page.focus("#mp-play")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('audio[data-player]').currentTime > 3.2", timeout=10_000)
    page.keyboard.press("Enter")
    assert state(page)["paused"] is True

    # It stays in view when the page scrolls to the transcript's end.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    box = page.locator("#mini-player").bounding_box()
    assert box is not None and 0 <= box["y"] <= 5, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "meeting-mini-player-phone.png"))
    assert_accessible(page)
    context.close()
