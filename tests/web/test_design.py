"""The design tokens of site.css meet WCAG 2.1 AA in light and dark: every text colour the site puts on a
background at least 4.5:1, field borders and the focus ring at least 3:1 (docs/design.md lists the pairs)."""

from __future__ import annotations

import re

import pytest

from tests.factories.browser import ROOT

CSS = (ROOT / "archive" / "web" / "static" / "site.css").read_text(encoding="utf-8")

# (text or control, background, the least ratio): each pair site.css uses.
TEXT = [(fg, bg) for fg in ("ink", "muted", "accent") for bg in ("bg", "surface", "mark", "current")]
TEXT += [(fg, "bg") for fg in ("error", "ok", "warn")] + [
    (f"speaker-{n}", bg) for n in range(8) for bg in ("bg", "surface")
]
TEXT += [("error", "error-bg"), ("ok", "ok-bg"), ("warn", "warn-bg"), ("del-ink", "del-bg"), ("ins-ink", "ins-bg")]
TEXT += [("accent-ink", "accent"), ("bg", "error")]  # a button's label; a danger button's
PAIRS = [(fg, bg, 4.5) for fg, bg in TEXT] + [("field", "bg", 3.0), ("focus", "bg", 3.0)]


def tokens(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([a-z0-9-]+):\s*(#[0-9a-f]{6})\b", block))


def schemes() -> dict[str, dict[str, str]]:
    light = tokens(CSS.split("@media (prefers-color-scheme: dark)")[0].split(":root {", 1)[1].split("\n}", 1)[0])
    dark = tokens(CSS.split("@media (prefers-color-scheme: dark)")[1].split("\n}", 1)[0])
    return {"light": light, "dark": {**light, **dark}}


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_formula_is_wcags() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54  # the familiar grey that just passes AA


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_colour_pair_meets_aa(scheme: str) -> None:
    palette = schemes()[scheme]
    assert len(palette) >= 30  # the tokens were found
    short = [
        f"--{fg} on --{bg}: {contrast(palette[fg], palette[bg]):.2f} < {least}"
        for fg, bg, least in PAIRS
        if contrast(palette[fg], palette[bg]) < least
    ]
    assert short == []


def test_dark_mode_gives_every_colour_its_own_value() -> None:
    light, dark = (tokens(CSS.split("@media (prefers-color-scheme: dark)")[i]) for i in (0, 1))
    colours = {name for name in light if name not in ("speaker",)}
    assert colours - set(dark) == set()  # no light colour left behind on a dark page
