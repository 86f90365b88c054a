"""Quote cards: a 1200×630 PNG of an excerpt's words, who said them, where and when, for sharing.

`layout_card` decides every line of text, its font and its box; `draw_card` only paints that layout, so
tests can check that nothing overflows without reading pixels. Fonts are the DejaVu files shipped under
archive/web/static/fonts/ (never the system's), so a card looks the same wherever it is made.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from archive.config import language_name
from archive.excerpts.manage import ExcerptDocument
from archive.media.clips import cached, forget_others
from archive.timecodes import format_clock

FONTS = Path(__file__).parent / "web" / "static" / "fonts"
SANS, SANS_BOLD, SERIF = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf"
WIDTH, HEIGHT = 1200, 630  # Open Graph's recommended size (1.91:1)
MARGIN_X, MARGIN_Y = 72, 56
CARD_VERSION = 2  # bump when the design changes, so cached cards are drawn again

# Colours: every text colour has a contrast ratio of at least 4.5:1 on the background (WCAG AA; tested).
BACKGROUND = "#f7f4ec"
INK = "#1b1f24"  # the quote and the speaker
MUTED = "#4a5260"  # the meeting and the date
ACCENT = "#8c2f1b"  # the site's name and the rule under it
VERIFIED = "#1d6a38"
UNVERIFIED = "#7f4606"
TEXT_COLOURS = {"ink": INK, "muted": MUTED, "accent": ACCENT, "verified": VERIFIED, "unverified": UNVERIFIED}

QUOTE_SIZES = (54, 48, 44, 40, 36, 33, 30)  # the largest that holds the whole quote wins
# The interpreter's words under a quote: smaller and in sans, so nobody takes them for the quote itself; each
# size goes with the quote's size in the same place (both shrink together).
INTERPRETATION_SIZES = (34, 32, 30, 28, 26, 24, 22)
LABEL_SIZE = 20  # "Interpretation into English, by the meeting's interpreter …" above them
LABEL_SPACE = 22 + 28  # the gap above the label and the label's own line
ELLIPSIS = "…"
Block = tuple[list[str], int, bool]  # a text's rows, its type size, and whether it was shortened to fit


@dataclass(frozen=True)
class CardText:
    """Everything a card says, as strings: the card's cache key is made from this."""

    site: str
    status: str
    verified: bool
    quote: str
    speaker: str
    role: str
    meeting: str  # the meeting's title (shortened first when the line is too long)
    when: str
    body: str = ""  # the body that met: always shown in full where it fits the line
    quoted: bool = True  # the big text is someone's words (a quote), else a title (a meeting's, the site's)
    # The interpreter's rendering of the quote (an excerpt of Spanish testimony): said after it, not part of it,
    # shown under it with its label; "" for most cards.
    interpretation: str = ""
    interpretation_label: str = ""


@dataclass(frozen=True)
class Line:
    text: str
    font: str  # file name under FONTS
    size: int
    colour: str
    x: float
    y: float  # top of the line (the ascender), as drawn with anchor "la"
    box: tuple[float, float, float, float]  # left, top, right, bottom of the ink, in card pixels


@dataclass(frozen=True)
class CardLayout:
    width: int
    height: int
    background: str
    lines: tuple[Line, ...]
    rule: tuple[int, int, int, int]  # the accent rule under the header
    shortened: bool  # the quote (or the interpretation under it) did not fit and ends with an ellipsis


def card_text(document: ExcerptDocument, site_name: str) -> CardText:
    """The words of the card for an excerpt document (archive.excerpts.manage.excerpt_document)."""
    named = [(s["name"], s["role"]) for s in document["speakers"] if s["name"]]
    if named:
        speaker = ", ".join(name for name, _ in named)
        roles = [role for _, role in named if role]
        role = roles[0] if len(named) == 1 and roles else ""
    else:
        speaker, role = "Unidentified speaker", ""
    meeting = document["meeting"]
    date = dt.date.fromisoformat(meeting["date"])
    interpretation = document.get("interpretation") or []
    into = list(dict.fromkeys(part["language"] for part in interpretation if part["language"]))
    return CardText(
        site=site_name,
        status="✓ Verified against the recording" if document["verified"] else "Machine transcript, not yet verified",
        verified=bool(document["verified"]),
        quote=_typographic(" ".join(document["quote"].split())),
        speaker=speaker,
        role=role,
        meeting=meeting["title"],
        when=f"{date.day} {date:%B %Y} · at {format_clock(document['start'])}",
        body=meeting["body"],
        interpretation=_typographic(" ".join(" ".join(part["text"] for part in interpretation).split())),
        interpretation_label=(
            f"Interpretation{' into ' + ', '.join(language_name(code) for code in into) if into else ''},"
            " by the meeting’s interpreter (not a machine translation):"
            if interpretation
            else ""
        ),
    )


def _typographic(text: str) -> str:
    """Straight apostrophes and quotes as printers set them: you're → you’re, "safe" → “safe”."""
    text = re.sub(r"(?<=\w)'|'(?=\d0s)", "’", text)
    text = re.sub(r'(^|[\s(])"', "\\1“", text)
    return text.replace('"', "”").replace("'", "‘")


@functools.lru_cache(maxsize=32)
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / name), size)


def layout_card(text: CardText) -> CardLayout:
    lines: list[Line] = []
    inner = WIDTH - 2 * MARGIN_X
    top = MARGIN_Y

    # Header: the site's name on the left, the verification on the right, a rule beneath.
    status_colour = "verified" if text.verified else "unverified"
    status = _fit(text.status, SANS_BOLD, 22, inner // 2)
    status_width = _width(font(SANS_BOLD, 22), status)
    lines.append(_line(status, SANS_BOLD, 22, status_colour, WIDTH - MARGIN_X - status_width, top))
    site = _fit(text.site, SANS_BOLD, 22, inner - status_width - 32)
    lines.append(_line(site, SANS_BOLD, 22, "accent", MARGIN_X, top))
    rule_y = top + 40
    rule = (MARGIN_X, rule_y, WIDTH - MARGIN_X - 1, rule_y + 2)  # inclusive, as Pillow draws rectangles

    # Footer, from the bottom up: when, the meeting, the speaker.
    bottom = HEIGHT - MARGIN_Y
    when = _line(_fit(text.when, SANS, 24, inner), SANS, 24, "muted", MARGIN_X, bottom - 28)
    meeting = _line(_meeting_line(text, inner), SANS, 24, "muted", MARGIN_X, when.y - 36)
    speaker_y = meeting.y - 48
    name = _fit(text.speaker, SANS_BOLD, 30, inner)
    lines.append(_line(name, SANS_BOLD, 30, "ink", MARGIN_X, speaker_y))
    if text.role:
        name_width = _width(font(SANS_BOLD, 30), name)
        role = _fit(f", {text.role}", SANS, 30, inner - name_width)
        if role.strip(", " + ELLIPSIS):
            lines.append(_line(role, SANS, 30, "ink", MARGIN_X + name_width, speaker_y))
    lines += [meeting, when]

    # The quote fills the space between, at the largest size that holds it, else shortened at a word; an
    # interpretation goes under it with its label, both shrinking together, then both shortened.
    quote_top, quote_bottom = rule_y + 3 + 34, speaker_y - 34
    if text.interpretation:
        quote, interpretation = _interpreted_blocks(text, inner, quote_bottom - quote_top)
    else:
        quote, interpretation = _quote_lines(text.quote, inner, quote_bottom - quote_top, text.quoted), None
    wrapped, size, shortened = quote
    leading = _leading(size)
    block = len(wrapped) * leading
    if interpretation is not None:
        block += LABEL_SPACE + len(interpretation[0]) * _leading(interpretation[1])
    y = quote_top + max(0, (quote_bottom - quote_top - block) // 2)  # centred in its space
    for row in wrapped:
        lines.append(_line(row, SERIF, size, "ink", MARGIN_X, y))
        y += leading
    if interpretation is not None:
        rows, small, cut = interpretation
        y += LABEL_SPACE - 28
        lines.append(
            _line(_fit(text.interpretation_label, SANS, LABEL_SIZE, inner), SANS, LABEL_SIZE, "muted", MARGIN_X, y)
        )
        y += 28
        for row in rows:
            lines.append(_line(row, SANS, small, "ink", MARGIN_X, y))
            y += _leading(small)
        shortened = shortened or cut
    return CardLayout(WIDTH, HEIGHT, BACKGROUND, tuple(lines), rule, shortened)


def _leading(size: int) -> int:
    return round(size * 1.3)


def _interpreted_blocks(text: CardText, width: float, height: float) -> tuple[Block, Block]:
    """The quote and the interpretation under it: the largest pair of sizes that holds both whole, else the
    smallest, with the height shared (the quote at least 55% of it, or all the interpretation leaves) and each
    shortened at a word."""
    quote_text, said = f"“{text.quote}”", f"“{text.interpretation}”"
    for big, small in zip(QUOTE_SIZES, INTERPRETATION_SIZES, strict=True):
        quote = _wrap(quote_text, font(SERIF, big), width)
        interpretation = _wrap(said, font(SANS, small), width)
        if len(quote) * _leading(big) + LABEL_SPACE + len(interpretation) * _leading(small) <= height:
            return (quote, big, False), (interpretation, small, False)
    room = int(height) - LABEL_SPACE
    quote_need, said_need = len(quote) * _leading(big), len(interpretation) * _leading(small)
    quote_room = round(room * 0.55)
    if quote_need <= quote_room:
        quote_room = quote_need
    elif said_need <= room - quote_room:
        quote_room = room - said_need
    return (
        _shortened(text.quote, SERIF, big, width, quote_room // _leading(big), ("“", "”")),
        _shortened(text.interpretation, SANS, small, width, (room - quote_room) // _leading(small), ("“", "”")),
    )


def _meeting_line(text: CardText, width: float) -> str:
    """ "Title · Body" in one line: the title is shortened first, so the body's name stays whole."""
    if not text.body:
        return _fit(text.meeting, SANS, 24, width)
    face = font(SANS, 24)
    whole = f"{text.meeting} · {text.body}"
    if _width(face, whole) <= width:
        return whole
    body = _fit(text.body, SANS, 24, width)
    room = width - _width(face, f" · {body}")
    title = _fit(text.meeting, SANS, 24, room) if room > _width(face, f"{ELLIPSIS} ") else ""
    return f"{title} · {body}" if title and title != ELLIPSIS else body


def _line(text: str, name: str, size: int, colour: str, x: float, y: float) -> Line:
    left, top, right, bottom = font(name, size).getbbox(text, anchor="la")
    if left < 0:  # a glyph that reaches left of its origin (serif "y", "v"): moved in, so no ink is in the margin
        x -= left
    return Line(text, name, size, TEXT_COLOURS[colour], x, y, (x + left, y + top, x + right, y + bottom))


def _fit(text: str, name: str, size: int, width: float) -> str:
    """One line: the text, or as many words of it as fit, with an ellipsis."""
    face = font(name, size)
    if _width(face, text) <= width:
        return text
    words = text.split(" ")
    while words:
        words.pop()
        candidate = _trail(" ".join(words))
        if _width(face, candidate) <= width:
            return candidate
    return ELLIPSIS


def _width(face: ImageFont.FreeTypeFont, text: str) -> float:
    """How far the text reaches from its origin: its advance, or its ink where a glyph overhangs (on the left too,
    where _line moves the text in)."""
    left, _, right, _ = face.getbbox(text, anchor="la")
    return max(int(face.getlength(text) + 0.999), right) - min(0, left)


def _trail(text: str) -> str:
    return text.rstrip(" ,;:.—–-") + ELLIPSIS


def _quote_lines(quote: str, width: float, height: float, quoted: bool = True) -> Block:
    marks = ("“", "”") if quoted else ("", "")
    for size in QUOTE_SIZES:
        rows = _wrap(f"{marks[0]}{quote}{marks[1]}", font(SERIF, size), width)
        if len(rows) * _leading(size) <= height:
            return rows, size, False
    # Even the smallest size is too big: keep the most words that fit.
    size = QUOTE_SIZES[-1]
    return _shortened(quote, SERIF, size, width, int(height // _leading(size)), marks)


def _shortened(text: str, name: str, size: int, width: float, most: int, marks: tuple[str, str]) -> Block:
    """The most words of the text that wrap into `most` rows, ending with an ellipsis (a binary search over the
    count); marks go around them."""
    words, face = text.split(), font(name, size)
    whole = _wrap(f"{marks[0]}{text}{marks[1]}", face, width)
    if len(whole) <= most:  # it fits after all (the interpretation's share of the room, say)
        return whole, size, False
    low, high, best = 1, len(words), [f"{marks[0]}{ELLIPSIS}{marks[1]}"]
    while low <= high:
        middle = (low + high) // 2
        rows = _wrap(f"{marks[0]}{_trail(' '.join(words[:middle]))}{marks[1]}", face, width)
        if len(rows) <= most:
            best, low = rows, middle + 1
        else:
            high = middle - 1
    return best, size, True


def _wrap(text: str, face: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Greedy wrapping at spaces; a word wider than the line (a long URL) is broken between characters."""
    rows: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if _width(face, candidate) <= width:
            current = candidate
            continue
        if current:
            rows.append(current)
        current = word
        while _width(face, current) > width:
            low, high = 1, len(current) - 1  # the longest prefix that fits (at least one character)
            while low < high:
                middle = (low + high + 1) // 2
                low, high = (middle, high) if _width(face, current[:middle]) <= width else (low, middle - 1)
            rows.append(current[:low])
            current = current[low:]
    if current:
        rows.append(current)
    return rows


def draw_card(layout: CardLayout) -> Image.Image:
    image = Image.new("RGB", (layout.width, layout.height), layout.background)
    draw = ImageDraw.Draw(image)
    draw.rectangle(layout.rule, fill=ACCENT)
    for line in layout.lines:
        draw.text((line.x, line.y), line.text, font=font(line.font, line.size), fill=line.colour, anchor="la")
    return image


def render_card(text: CardText) -> bytes:
    out = io.BytesIO()
    draw_card(layout_card(text)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def card_key(text: CardText) -> str:
    material = json.dumps([CARD_VERSION, asdict(text)], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def excerpt_card(cache_dir: Path, document: ExcerptDocument, site_name: str) -> Path:
    """The cached card of an excerpt; a change of anything it shows makes a new file."""
    return cached_card(cache_dir, document["slug"], card_text(document, site_name))


def meeting_card_text(title: str, body: str, date: dt.date, seconds: float, site_name: str) -> CardText:
    """A meeting's card (its og:image): the title large, the body that met, the date and the recording's length."""
    return CardText(
        site=site_name,
        status="Public meeting: transcript and recording",
        verified=False,
        quote=" ".join(title.split()),
        speaker=body,
        role="",
        meeting=f"{format_clock(seconds)} of recording" if seconds else "Transcript",
        when=f"{date.day} {date:%B %Y}",
        quoted=False,
    )


def site_card_text(site_name: str) -> CardText:
    """The site's own card: the og:image of pages that have none of their own."""
    return CardText(
        site=site_name,
        status="",
        verified=False,
        quote="What was said in public meetings: heard, searched, cited and shared.",
        speaker=site_name,
        role="",
        meeting="Recordings and transcripts of public meetings",
        when="",
        quoted=False,
    )


def cached_card(cache_dir: Path, prefix: str, text: CardText) -> Path:
    """The cached PNG of a card, `<prefix>-<key>.png`; a change of anything it shows makes a new file."""
    path = cache_dir / f"{prefix}-{card_key(text)[:20]}.png"
    if path.exists():
        return path
    cached(path, lambda temp: temp.write_bytes(render_card(text)))
    forget_others(path, f"{prefix}-")
    return path


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours (1 to 21)."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
