"""The meeting page in a real browser (Debian's chromium driven by Playwright): the transcript follows the
recording, a click seeks, ?t= starts there, and a search hit leads to the right second. Screenshots of the
main pages at phone and desktop widths are saved under test-artifacts/screenshots/."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.config import Settings
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
# As the workplace's probe runs it: no sandbox as root, no background traffic, media may start without a gesture.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module")
def site_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("site") / "home"


@pytest.fixture(scope="module")
def live_site(site_home: Path):  # type: ignore[no-untyped-def]
    """sample.wav ingested and transcribed (faster-whisper), served by waitress on a free loopback port."""
    import waitress

    from archive import create_app
    from archive.cli import main

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
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}", slug
    server.close()
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


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


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
    start = spans[2][0]
    page.evaluate(
        f"(() => {{ const a = document.querySelector('audio'); a.currentTime = {start - 0.8}; a.play(); }})()"
    )
    page.wait_for_function(f"() => document.querySelector('audio').currentTime > {start + 0.3}", timeout=10_000)
    current = page.eval_on_selector(".segment[aria-current]", "l => parseFloat(l.dataset.start)")
    assert current == start
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
    second = int(link.first.get_attribute("href").rsplit("t=", 1)[1])
    assert 8 <= second <= 14  # "This is Diane in New Jersey" is said at about 12.5 s
    link.first.click()
    page.wait_for_url(f"{base}/meetings/{slug}?t={second}")
    page.wait_for_function("() => document.querySelector('audio').readyState >= 1")
    page.evaluate("document.querySelector('audio').play()")
    page.wait_for_function(f"() => document.querySelector('audio').currentTime > {second}", timeout=10_000)
    assert second <= current_time(page) < second + 2.5


@pytest.mark.parametrize(("width", "height", "name"), [(390, 844, "phone"), (1280, 800, "desktop")])
def test_screenshots_of_the_main_pages(live_site, caller, browser, width, height, name) -> None:  # type: ignore[no-untyped-def]
    base, slug = live_site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    pages = [("home", "/"), ("search", "/search?q=chicago"), ("meeting", f"/meetings/{slug}")]
    for label, path in pages + [("speaker", f"/speakers/{caller}")]:
        page.goto(base + path)
        # Nothing may be wider than the screen: a phone must not scroll sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(SCREENSHOTS / f"{label}-{name}.png"), full_page=True)
        assert (SCREENSHOTS / f"{label}-{name}.png").stat().st_size > 5_000
    context.close()


AXE = Path(__file__).parents[1] / "vendor" / "axe-core" / "axe.min.js"


@pytest.mark.parametrize("path", ["/", "/search?q=chicago", "/meetings/{slug}", "/meetings", "/speakers/{caller}"])
def test_no_serious_accessibility_violations(live_site, caller, browser, path) -> None:  # type: ignore[no-untyped-def]
    base, slug = live_site
    # bypass_csp only lets the test inject axe-core; the pages themselves run no inline script.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.goto(base + path.format(slug=slug, caller=caller))
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    serious = [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    context.close()
    assert len(result["passes"]) >= 10  # axe really ran its rules on the page
    assert serious == []
