"""The meeting page in a real browser (Debian's chromium driven by Playwright): the transcript follows the
recording, a click seeks, ?t= starts there, and a search hit leads to the right second. Screenshots of the
main pages at phone and desktop widths are saved under test-artifacts/screenshots/."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.config import Settings
from tests.factories.browser import SCREENSHOTS, assert_accessible
from tests.factories.media import FIXTURES
from tests.factories.server import served_in_thread

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("site") / "home"


@pytest.fixture(scope="module")
def live_site(site_home: Path):  # type: ignore[no-untyped-def]
    """sample.wav ingested and transcribed (faster-whisper), served by waitress on a free loopback port."""

    from archive import create_app
    from archive.cli.main import main

    home = site_home
    env = {"TESTIMONY_HOME": str(home), "TESTIMONY_DATABASE_URL": "", "TESTIMONY_ENGINE": "faster-whisper"}
    result = CliRunner(env=env).invoke(
        main,
        [
            "ingest",
            str(FIXTURES / "sample.wav"),
            "--body",
            "Phone Council",
            "--title",
            "Call-in hour",
            "--date",
            "2024-03-01",
        ],
    )
    assert result.exit_code == 0, result.output
    slug = result.stdout.splitlines()[-1]
    app = create_app(Settings(home=home))
    with served_in_thread(app, threads=4) as address:
        yield address, slug
    app.extensions["sessions"].kw["bind"].dispose()


@pytest.fixture(scope="module")
def caller(live_site, site_home: Path) -> int:  # type: ignore[no-untyped-def]
    """The id of a person attributed to the meeting's first voice (a voice made if diarization found none)."""
    from sqlalchemy import select

    from archive.db.models import Meeting, Person, Speaker
    from archive.home import open_home

    _, slug = live_site
    sessions = open_home(Settings(home=site_home))
    try:
        with sessions() as session, session.begin():
            meeting = session.scalar(select(Meeting).where(Meeting.slug == slug))
            speaker = meeting.speakers[0] if meeting.speakers else Speaker(meeting=meeting, label="SPEAKER_00")
            if not meeting.speakers:
                for segment in meeting.segments:
                    segment.speaker = speaker
            speaker.person = Person(name="Diane", role="caller", affiliation="New Jersey")
            speaker.attribution = "self-identified"
            session.flush()
            return speaker.person.id
    finally:
        sessions.kw["bind"].dispose()


EDITOR_TOKEN = "browser-test-editor-token"


@pytest.fixture(scope="module")
def editor_site(live_site, site_home: Path):  # type: ignore[no-untyped-def]
    """The same archive served again with an editor token, so the meeting page offers the excerpt form."""

    from archive import create_app

    _, slug = live_site
    app = create_app(Settings(home=site_home, editor_token=EDITOR_TOKEN))
    with served_in_thread(app, threads=4) as address:
        yield address, slug
    app.extensions["sessions"].kw["bind"].dispose()


@pytest.fixture(scope="module")
def excerpt(live_site, caller, site_home: Path) -> str:  # type: ignore[no-untyped-def]
    """An excerpt of the meeting's second and third lines (the caller's), with a note."""
    from sqlalchemy import select

    from archive.db.models import Meeting
    from archive.excerpts.manage import create_excerpt
    from archive.home import open_home

    _, slug = live_site
    sessions = open_home(Settings(home=site_home))
    try:
        with sessions() as session, session.begin():
            meeting = session.scalar(select(Meeting).where(Meeting.slug == slug))
            first, last = meeting.segments[1], meeting.segments[2]
            note = "Read this before the hearing on the 14th.\nShe asks the question twice."
            made = create_excerpt(session, slug, first.start, last.end, "Diane calls in", note=note, created_by="test")
            return made.slug
    finally:
        sessions.kw["bind"].dispose()


@pytest.fixture(scope="module")
def directory(live_site, site_home: Path) -> str:  # type: ignore[no-untyped-def]
    """The bundled Vermont legislator directory with a towns file in which Burlington is split; a page to open."""
    from archive.cli.main import main

    towns = site_home.parent / "towns.csv"
    towns.write_text(
        "town,chamber,district\nBurlington,lower,Chittenden-15\nBurlington,lower,Chittenden-16\n"
        "Burlington,upper,Chittenden Central\n",
        encoding="utf-8",
    )
    env = {"TESTIMONY_HOME": str(site_home), "TESTIMONY_DATABASE_URL": ""}
    result = CliRunner(env=env).invoke(main, ["legislators", "import", "--towns", str(towns)])
    assert result.exit_code == 0, result.output
    return "/legislators?town=Burlington&district=Chittenden-16"


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def segments(page) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all(
        ".segment[data-start]", "lines => lines.map(l => [parseFloat(l.dataset.start), parseFloat(l.dataset.end)])"
    )


def current_time(page) -> float:  # type: ignore[no-untyped-def]
    return page.evaluate("document.querySelector('audio').currentTime")


def test_the_highlighted_line_follows_playback(live_site, page) -> None:  # type: ignore[no-untyped-def]
    base, slug = live_site
    page.goto(f"{base}/meetings/{slug}")
    page.wait_for_function("() => document.querySelector('audio').readyState >= 1")
    spans = segments(page)
    assert len(spans) >= 4
    # A line long enough that playback is still inside it when the check runs, however busy the machine.
    start, end = next((s, e) for s, e in spans[1:] if e - s >= 3.0)
    page.evaluate(
        f"(() => {{ const a = document.querySelector('audio'); a.currentTime = {start - 0.8}; a.play(); }})()"
    )
    page.wait_for_function(f"() => document.querySelector('audio').currentTime > {start + 0.3}", timeout=10_000)
    page.evaluate("document.querySelector('audio').pause()")
    now = current_time(page)
    page.wait_for_function(
        "t => { const l = document.querySelector('.segment[aria-current]');"
        " return l && parseFloat(l.dataset.start) <= t && t < parseFloat(l.dataset.end) + 0.5; }",
        arg=now,
        timeout=5_000,
    )
    assert start <= now < end + 0.5, (start, end, now)
    assert page.eval_on_selector(".segment[aria-current]", "l => parseFloat(l.dataset.start)") == start
    assert page.locator(".segment[aria-current]").count() == 1


def test_clicking_a_line_seeks_there(live_site, page) -> None:  # type: ignore[no-untyped-def]
    base, slug = live_site
    page.goto(f"{base}/meetings/{slug}")
    page.wait_for_function("() => document.querySelector('audio').readyState >= 1")
    target = segments(page)[3][0]
    page.locator(".segment[data-start]").nth(3).click(position={"x": 200, "y": 5})
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('audio').currentTime - {target}) < 1.0", timeout=10_000
    )
    assert page.eval_on_selector(".segment[aria-current]", "l => parseFloat(l.dataset.start)") == target
    assert page.url == f"{base}/meetings/{slug}"  # seeking, not a page load


def test_t_starts_playback_at_that_second(live_site, page) -> None:  # type: ignore[no-untyped-def]
    base, slug = live_site
    page.goto(f"{base}/meetings/{slug}?t=12")
    page.wait_for_function("() => document.querySelector('audio').readyState >= 1")
    page.evaluate("document.querySelector('audio').play()")
    page.wait_for_function("() => document.querySelector('audio').currentTime > 12.2", timeout=10_000)
    assert 12.0 <= current_time(page) < 14.5


def test_a_search_from_home_leads_to_the_second(live_site, page) -> None:  # type: ignore[no-untyped-def]
    base, slug = live_site
    page.goto(base)
    page.fill("#q", "diane")
    page.press("#q", "Enter")
    page.wait_for_selector(".hits li")
    link = page.locator(".hits li a", has_text="at 0:00:")
    second = int(link.first.get_attribute("href").rsplit("t=", 1)[1].split("#")[0])
    line = link.first.get_attribute("href").split("#")[1]  # the line's own id on the meeting page
    assert 8 <= second <= 14  # "This is Diane in New Jersey" is said at about 12.5 s
    link.first.click()
    page.wait_for_url(f"{base}/meetings/{slug}?t={second}#{line}")
    page.wait_for_function("() => document.querySelector('audio').readyState >= 1")
    page.evaluate("document.querySelector('audio').play()")
    page.wait_for_function(f"() => document.querySelector('audio').currentTime > {second}", timeout=10_000)
    assert second <= current_time(page) < second + 2.5


@pytest.mark.parametrize(("width", "height", "name"), [(390, 844, "phone"), (1280, 800, "desktop")])
def test_screenshots_of_the_main_pages(live_site, caller, excerpt, directory, browser, width, height, name) -> None:  # type: ignore[no-untyped-def]
    base, slug = live_site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    pages = [("home", "/"), ("search", "/search?q=chicago"), ("meeting", f"/meetings/{slug}")]
    more = [("speaker", f"/speakers/{caller}"), ("excerpt", f"/excerpts/{excerpt}"), ("legislators", directory)]
    for label, path in pages + more:
        page.goto(base + path)
        # Nothing may be wider than the screen: a phone must not scroll sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(SCREENSHOTS / f"{label}-{name}.png"), full_page=True)
        assert (SCREENSHOTS / f"{label}-{name}.png").stat().st_size > 5_000
    context.close()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/search?q=chicago",
        "/meetings/{slug}",
        "/meetings",
        "/speakers/{caller}",
        "/excerpts/{excerpt}",
        "/legislators?town=Burlington",
        "{directory}",
    ],
)
def test_no_serious_accessibility_violations(live_site, caller, excerpt, directory, browser, path) -> None:  # type: ignore[no-untyped-def]
    base, slug = live_site
    # bypass_csp only lets the test inject axe-core; the pages themselves run no inline script.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.goto(base + path.format(slug=slug, caller=caller, excerpt=excerpt, directory=directory))
    assert_accessible(page)
    context.close()


def choose_lines(page, first: int, last: int) -> None:  # type: ignore[no-untyped-def]
    """Open the excerpt form, switch to choosing lines, click the first line's box and shift-click the last's."""
    page.click("summary:has-text('Make an excerpt')")
    page.click("#choose-lines")
    boxes = page.locator(".segment .pick")
    boxes.nth(first).click()
    boxes.nth(last).click(modifiers=["Shift"])


def seconds(clock: str) -> float:
    from archive.timecodes import parse_clock

    return parse_clock(clock)


def test_make_an_excerpt_from_the_meeting_page_play_it_and_copy_its_citation(editor_site, browser) -> None:  # type: ignore[no-untyped-def]
    base, slug = editor_site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    page.goto(f"{base}/meetings/{slug}")
    spans = segments(page)
    choose_lines(page, 1, 3)
    assert page.locator(".segment.selected").count() == 3
    assert page.locator("#selection-bar").is_visible()
    assert "3 lines chosen" in page.text_content("#selection-status")
    assert abs(seconds(page.input_value("#excerpt-start")) - spans[1][0]) < 0.06
    assert abs(seconds(page.input_value("#excerpt-end")) - spans[3][1]) < 0.06
    first_words = page.locator(".segment[data-start]").nth(1).text_content().split()[1:3]  # after the timestamp
    page.screenshot(path=str(SCREENSHOTS / "meeting-choosing-lines-desktop.png"))
    page.click("#selection-continue")
    assert page.evaluate("document.activeElement.id") == "excerpt-title"
    page.fill("#excerpt-title", "Diane's question")
    page.fill("#excerpt-note", "For the letter.")
    page.fill("#excerpt-token", EDITOR_TOKEN)
    page.click("#excerpt-form [type=submit]")
    page.wait_for_url(re.compile(r"/excerpts/[a-z0-9]{8}$"))
    excerpt_url = page.url
    assert page.text_content("h1") == "Diane's question"
    quote = " ".join(page.locator(".excerpt blockquote .words").all_text_contents())
    assert " ".join(first_words) in quote
    assert "Machine transcript, not yet verified" in page.text_content(".verification")

    # The clip plays (cut by the clips' route at the excerpt's word boundaries).
    page.evaluate("document.querySelector('.excerpt audio').play()")
    page.wait_for_function("() => document.querySelector('.excerpt audio').currentTime > 0.5", timeout=30_000)
    assert re.search(r"/clip\.(m4a|ogg|mp3)$", page.evaluate("document.querySelector('.excerpt audio').currentSrc"))

    # Copying a citation (folded below the share actions) puts exactly its text on the clipboard and says so.
    assert not page.is_visible("#cite-plain")
    page.click("#cite summary")
    page.click("button[data-copy='cite-plain']")
    page.wait_for_function("() => document.querySelector('[data-copy=cite-plain] + .copied').textContent === 'Copied'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.text_content("#cite-plain")
    assert f"/meetings/{slug}?t=" in copied and "Recording SHA-256" in copied
    page.click("button[data-copy-text]")
    assert page.evaluate("navigator.clipboard.readText()") == excerpt_url
    page.screenshot(path=str(SCREENSHOTS / "excerpt-made-desktop.png"), full_page=True)

    # The quote card the page's og:image names, saved beside the screenshots.
    card_url = page.get_attribute("meta[property='og:image']", "content")
    card = page.request.get(card_url)
    assert card.status == 200 and card.headers["content-type"] == "image/png"
    body = card.body()
    assert body[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", body[16:24]) == (1200, 630)
    (SCREENSHOTS / "excerpt-card.png").write_bytes(body)
    context.close()


def test_the_excerpt_form_is_accessible_while_choosing_lines(editor_site, browser) -> None:  # type: ignore[no-untyped-def]
    base, slug = editor_site
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{base}/meetings/{slug}")
    choose_lines(page, 0, 1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "meeting-choosing-lines-phone.png"))
    assert_accessible(page)
    context.close()


def test_a_wrong_token_shows_the_reason_and_keeps_the_form(editor_site, browser) -> None:  # type: ignore[no-untyped-def]
    base, slug = editor_site
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{base}/meetings/{slug}")
    choose_lines(page, 0, 0)
    page.click("#selection-continue")
    page.fill("#excerpt-title", "Kept title")
    page.fill("#excerpt-token", "not the token")
    page.click("#excerpt-form [type=submit]")
    page.wait_for_selector("#excerpt-error")
    assert "not right" in page.text_content("#excerpt-error")
    assert page.input_value("#excerpt-title") == "Kept title" and page.input_value("#excerpt-token") == ""
    context.close()
