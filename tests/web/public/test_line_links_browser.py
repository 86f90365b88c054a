"""Search that lands, in a real browser (chromium): a hit's link opens its meeting scrolled to the line, which is
highlighted; `?t=42` alone opens the line that starts at 42.04, not the top of the page."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.config import Settings
from tests.factories.meetings import Line, add_meeting
from tests.factories.server import served_in_thread

SLUG = "2024-02-07-long-hearing"


@pytest.fixture
def site(tmp_path: Path, app_for):  # type: ignore[no-untyped-def]

    from archive.home import init_home
    from archive.search.index import index_meeting, open_backend

    settings = Settings(home=tmp_path)
    sessions = init_home(settings)
    lines = [Line(f"Line {n} of the hearing, about the budget.", 10.0 * n + 2.04, 10.0 * n + 9.0) for n in range(300)]
    lines[250] = Line("You're here illegally and you're worried?", 2502.04, 2509.0, "Deputy Dan", "member")
    add_meeting(sessions, SLUG, lines)
    with sessions() as session:
        index_meeting(open_backend(settings), session, SLUG)
    with served_in_thread(app_for(settings), threads=2) as address:
        yield address
    sessions.kw["bind"].dispose()


def highlighted(locator) -> bool:  # type: ignore[no-untyped-def]
    return locator.evaluate("e => getComputedStyle(e).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")


def test_a_hit_opens_its_line_in_view_and_highlighted(site, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(f"{site}/search?q=illegally")
    hit = page.locator("ol.hits li a", has_text="at ")
    href = hit.get_attribute("href")
    assert href is not None and href.startswith(f"/meetings/{SLUG}?t=2502#s")
    hit.click()
    line = page.locator(f"#{href.split('#')[1]}")
    expect(line).to_contain_text("You're here illegally")
    expect(line).to_be_in_viewport()
    assert highlighted(line)
    assert page.evaluate("window.scrollY") > 5000  # far from the top of a 300-line page
    others = page.locator(".segment").nth(10)
    assert not highlighted(others)

    # ?t= alone: t=42 is the line that starts at 42.04 (not the one before it), scrolled to and highlighted.
    page.goto(f"{site}/meetings/{SLUG}?t=1242")
    line = page.locator(".segment.landing")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("Line 124 of the hearing")
    expect(line).to_be_in_viewport()
    assert highlighted(line)
    expect(line).to_be_focused()
