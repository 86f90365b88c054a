"""The browser the web tests drive: Debian's chromium through Playwright (no browser download), its options,
where screenshots go, and an accessibility check with axe-core (tests/vendor/axe-core)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


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


AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"


def assert_accessible(page, rules_that_apply: int = 10) -> None:  # type: ignore[no-untyped-def]
    """axe-core's WCAG 2.1 AA rules find nothing serious or critical on the page as it is now; at least
    `rules_that_apply` of them passed (axe really ran: a tiny page such as the embedded player has fewer)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    serious = [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert len(result["passes"]) >= rules_that_apply  # axe really ran its rules on the page
    assert serious == []


def assert_fits_the_screen(page) -> None:  # type: ignore[no-untyped-def]
    """Nothing on the page is wider than the window: a phone never scrolls sideways (a wide table scrolls inside
    its own region instead)."""
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url}: {width} px wide in a {inner} px window"
