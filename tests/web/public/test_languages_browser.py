"""The language switch in a real browser (Debian's chromium through Playwright, a live server): a browser that
asks for English gets English; the switch, reached with the keyboard, turns the page Spanish; the choice is
remembered on the next page; the Spanish pages pass axe-core's WCAG checks. A screenshot goes to
test-artifacts/screenshots/."""

from __future__ import annotations

import pytest

from tests.factories.browser import SCREENSHOTS, assert_accessible
from tests.factories.meetings import Line, add_meeting
from tests.factories.server import served_in_thread

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SLUG = "2024-02-07-comment"


@pytest.fixture
def live_site(settings, sessions, app_for):  # type: ignore[no-untyped-def]

    add_meeting(
        sessions,
        SLUG,
        [Line("I want to feel safe driving to the grocery store.", 20.0, 26.5, "Rosa", "public commenter")],
        title="Public comment on policing",
    )
    with served_in_thread(app_for(settings), threads=2) as address:
        yield address


def test_the_switch_turns_the_site_spanish_and_it_stays_so(browser, live_site) -> None:  # type: ignore[no-untyped-def]
    # The browser's Accept-Language: English. bypass_csp: axe-core is injected as an inline script.
    context = browser.new_context(locale="en-US", bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{live_site}/meetings/{SLUG}")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("heading", name="Transcript").is_visible()
        switch = page.get_by_role("navigation", name="Language")
        assert switch.get_by_role("link", name="English").get_attribute("aria-current") == "true"

        spanish = switch.get_by_role("link", name="Español")
        assert spanish.get_attribute("hreflang") == "es" and spanish.get_attribute("lang") == "es"
        spanish.focus()  # the keyboard's way: the link takes focus and Enter follows it
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == f"{live_site}/meetings/{SLUG}"  # back on the same page
        assert page.locator("html").get_attribute("lang") == "es"
        assert page.get_by_role("heading", name="Transcripción").is_visible()
        assert page.get_by_text("I want to feel safe driving to the grocery store.").is_visible()  # as said
        assert (
            page.get_by_role("navigation", name="Idioma")
            .get_by_role("link", name="Español")
            .get_attribute("aria-current")
            == "true"
        )
        assert_accessible(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "meeting-spanish.png"), full_page=True)

        # The next page, reached by its link: still Spanish, although the browser still asks for English.
        page.get_by_role("navigation", name="Principal").get_by_role("link", name="Buscar").click()
        page.wait_for_load_state()
        assert page.url.endswith("/search")
        assert page.locator("html").get_attribute("lang") == "es"
        assert page.get_by_role("heading", name="Buscar", level=1).is_visible()
        assert page.get_by_label("Buscar testimonios").is_visible()
        assert_accessible(page)
    finally:
        context.close()
