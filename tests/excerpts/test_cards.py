"""Quote cards: what they say, that nothing overflows, contrast, the PNG served and cached (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from archive.curation.interpretations import set_interpretation
from archive.db.models import Excerpt, Segment
from archive.excerpts.cards import (
    BACKGROUND,
    ELLIPSIS,
    HEIGHT,
    MARGIN_X,
    MARGIN_Y,
    TEXT_COLOURS,
    WIDTH,
    CardText,
    card_key,
    card_text,
    contrast_ratio,
    draw_card,
    layout_card,
)
from archive.excerpts.manage import create_excerpt, excerpt_document, verify
from archive.excerpts.video import plan_frames, video_card_text
from tests.factories.meetings import Line, add_meeting

SLUG = "2024-02-07-council"
HOT_MIC = "You're here illegally and you're worried about being safe?"
LONG = (
    "I only want to feel safe driving to the grocery store, and I want my children to be able to go to school "
    "without being afraid of who is waiting at the corner. "
) * 4


def document(quote: str = HOT_MIC, **changes: object) -> dict[str, object]:
    made: dict[str, object] = {
        "slug": "abcdefgh",
        "title": "Hot mic",
        "quote": quote,
        "start": 3721.4,
        "end": 3726.0,
        "speakers": [{"label": "SPEAKER_01", "name": "Deputy Dan", "role": "member", "person_id": 1}],
        "meeting": {
            "slug": SLUG,
            "title": "Regular meeting",
            "date": "2024-02-07",
            "body": "Vermont Criminal Justice Council",
            "source_url": None,
        },
        "verified": None,
    }
    made.update(changes)
    return made


SPANISH = "Trabajo doce horas en la granja y tengo miedo de la policía cuando voy a la tienda con mis hijos."
ENGLISH = "I work twelve hours on the farm and I am afraid of the police when I go to the store with my children."
LABEL = "Interpretation into English, by the meeting’s interpreter (not a machine translation):"


def interpreted(quote: str = SPANISH, said: str = ENGLISH, **changes: object) -> dict[str, object]:
    """A document of Spanish testimony whose interpreter's English is linked (excerpt_document's shape)."""
    part = {"speaker": None, "start": 3727.0, "end": 3733.0, "text": said, "language": "en"}
    return document(quote, interpretation=[part], **changes)


def serif(layout) -> list[str]:  # type: ignore[no-untyped-def]
    return [line.text for line in layout.lines if line.font == "DejaVuSerif.ttf"]


def interpretation_rows(layout) -> list[str]:  # type: ignore[no-untyped-def]
    """The interpretation's rows: the sans lines under its label, above the speaker's name."""
    label = next(line for line in layout.lines if line.text == LABEL)
    name = next(line for line in layout.lines if line.font == "DejaVuSans-Bold.ttf" and line.size == 30)
    return [line.text for line in layout.lines if line.font == "DejaVuSans.ttf" and label.y < line.y < name.y]


def no_overlaps(layout) -> None:  # type: ignore[no-untyped-def]
    boxes = sorted(line.box for line in layout.lines)
    for a in boxes:
        for b in boxes:
            if a < b:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


def inside(box: tuple[int, int, int, int]) -> bool:
    left, top, right, bottom = box
    return left >= MARGIN_X and right <= WIDTH - MARGIN_X and top >= MARGIN_Y and bottom <= HEIGHT - MARGIN_Y


def test_the_card_says_who_where_when_and_how_sure() -> None:
    text = card_text(document(), "Council Watch")
    layout = layout_card(text)
    words = " ".join(line.text for line in layout.lines)
    assert "“You’re here illegally and you’re worried about being safe?”" in words  # typographic quotes
    for part in ("Deputy Dan", ", member", "Regular meeting · Vermont Criminal Justice Council", "Council Watch"):
        assert part in [line.text for line in layout.lines]
    assert "7 February 2024 · at 1:02:01" in words
    assert "Machine transcript, not yet verified" in words and not layout.shortened
    verified = layout_card(card_text(document(verified={"by": "Kim", "at": "2024-03-01"}), "Council Watch"))
    assert "✓ Verified against the recording" in [line.text for line in verified.lines]
    nobody = card_text(document(speakers=[]), "Council Watch")
    assert (nobody.speaker, nobody.role) == ("Unidentified speaker", "")


def test_a_long_quote_is_shortened_at_a_word_and_nothing_overflows() -> None:
    quote = LONG[:600].rsplit(" ", 1)[0]
    assert len(quote) > 590
    layout = layout_card(card_text(document(quote), "Testimony Archive"))
    assert layout.shortened
    quote_lines = [line for line in layout.lines if line.font == "DejaVuSerif.ttf"]
    assert quote_lines[0].text.startswith("“I only want") and quote_lines[-1].text.endswith(f"{ELLIPSIS}”")
    kept = " ".join(line.text for line in quote_lines)[1:-2].split()
    assert kept == quote.replace("'", "’").split()[: len(kept)]  # whole words only, in order
    for line in layout.lines:
        assert inside(line.box), line
    # Lines do not overlap each other.
    boxes = sorted(line.box for line in layout.lines)
    for a in boxes:
        for b in boxes:
            if a < b:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


@pytest.mark.parametrize(
    "changes",
    [
        {"quote": "https://example.org/" + "a" * 300},  # one word wider than the card
        {"speakers": [{"name": "Maria " * 30, "role": "public commenter " * 10}]},
        {"meeting": {"title": "Special meeting " * 20, "body": "Council", "date": "2024-02-07", "slug": SLUG}},
        {"quote": "Yes."},
    ],
)
def test_odd_texts_stay_inside_the_margins(changes: dict[str, object]) -> None:
    layout = layout_card(card_text(document(**changes), "Testimony Archive " * 8))
    for line in layout.lines:
        assert inside(line.box), line
    # And the pixels agree: the margins are untouched background.
    pixels = np.asarray(draw_card(layout))
    background = np.array(Image.new("RGB", (1, 1), BACKGROUND).getpixel((0, 0)))
    for band in (pixels[:MARGIN_Y], pixels[-MARGIN_Y:], pixels[:, :MARGIN_X], pixels[:, -MARGIN_X:]):
        assert (band == background).all()


@pytest.mark.parametrize(
    "title, body",
    [
        ("Regular meeting of the Joint Fiscal Committee and the House Committee on Appropriations " * 2, "Council"),
        ("Special meeting " * 20, "Vermont Criminal Justice Council"),
        ("Hearing", "Vermont Criminal Justice Council"),
    ],
)
def test_the_body_is_always_named_the_meeting_title_shortened_first(title: str, body: str) -> None:
    meeting = {"title": title, "body": body, "date": "2024-02-07", "slug": SLUG, "source_url": None}
    layout = layout_card(card_text(document(meeting=meeting), "Testimony Archive"))
    [line] = [line for line in layout.lines if line.text.endswith(f" · {body}")]
    shown_title = line.text.removesuffix(f" · {body}")
    assert shown_title == title.strip() or (shown_title.endswith(ELLIPSIS) and title.startswith(shown_title[:-1]))
    assert inside(line.box)


def test_a_body_too_long_for_the_line_is_itself_shortened_inside_the_margins() -> None:
    meeting = {"title": "Hearing", "body": "Committee " * 30, "date": "2024-02-07", "slug": SLUG, "source_url": None}
    layout = layout_card(card_text(document(meeting=meeting), "Testimony Archive"))
    [line] = [line for line in layout.lines if line.text.startswith("Committee")]
    assert line.text.endswith(ELLIPSIS) and inside(line.box)


def test_every_text_colour_passes_wcag_aa() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss
    for name, colour in TEXT_COLOURS.items():
        assert contrast_ratio(colour, BACKGROUND) >= 4.5, name
    used = {line.colour for line in layout_card(card_text(document(), "Testimony Archive")).lines}
    assert used <= set(TEXT_COLOURS.values())


def test_the_card_is_a_1200_by_630_png() -> None:
    image = draw_card(layout_card(CardText("Site", "Machine transcript", False, "Hello.", "A", "", "M · B", "W")))
    assert image.size == (1200, 630)


@pytest.fixture
def hot_mic(sessions) -> None:  # type: ignore[no-untyped-def]
    """The deputy's remark, word-timed, for the tests of served cards (the shared `client` serves it)."""
    add_meeting(sessions, SLUG, [Line(HOT_MIC, 3721.4, 3726.0, speaker="Deputy Dan", role="member")])
    with sessions() as session, session.begin():
        segment = session.scalars(select(Segment)).one()
        segment.words = [
            {"word": w, "start": 3721.4 + i * 0.4, "end": 3721.7 + i * 0.4, "probability": 0.9}
            for i, w in enumerate(HOT_MIC.split())
        ]


def card_of(client, slug: str):  # type: ignore[no-untyped-def]
    with client.get(f"/excerpts/{slug}/card.png") as response:
        response.get_data()
    return response


def test_the_card_is_served_cached_and_redrawn_when_it_changes(hot_mic, client, sessions, settings) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        slug = create_excerpt(session, SLUG, 3721.0, 3730.0, "Hot mic", created_by="test").slug
    first = card_of(client, slug)
    assert first.status_code == 200 and first.mimetype == "image/png"
    assert first.headers["Content-Disposition"] == 'inline; filename="2024-02-07 Hot mic.png"'
    image = Image.open(io.BytesIO(first.data))
    assert (image.format, image.size) == ("PNG", (1200, 630))
    [path] = (settings.home / "cache" / "cards").glob(f"{slug}-*.png")
    made = path.stat().st_mtime_ns
    assert card_of(client, slug).data == first.data and path.stat().st_mtime_ns == made
    with sessions() as session, session.begin():
        verify(session, session.scalar(select(Excerpt).where(Excerpt.slug == slug)), verified_by="Kim")
    verified = card_of(client, slug)
    assert verified.headers["ETag"] != first.headers["ETag"] and verified.data != first.data
    assert card_of(client, "zzzzzzzz").status_code == 404


def test_an_interpreted_quote_carries_the_interpreters_english_labelled_under_it() -> None:
    plain = card_text(document(SPANISH), "Testimony Archive")
    text = card_text(interpreted(), "Testimony Archive")
    assert (text.quote, text.interpretation, text.interpretation_label) == (SPANISH, ENGLISH, LABEL)
    assert (plain.interpretation, plain.interpretation_label) == ("", "")
    layout = layout_card(text)
    assert not layout.shortened
    assert " ".join(serif(layout)) == f"“{SPANISH}”"  # the quote is the original words, whole, in serif
    assert " ".join(interpretation_rows(layout)) == f"“{ENGLISH}”"  # the English in sans, whole, under its label
    label = next(line for line in layout.lines if line.text == LABEL)
    quote_bottom = max(line.box[3] for line in layout.lines if line.font == "DejaVuSerif.ttf")
    assert quote_bottom < label.box[1] and label.colour == TEXT_COLOURS["muted"]
    for line in layout.lines:
        assert inside(line.box), line
    no_overlaps(layout)
    # A different card: another image and another cache key, so a cached card without it is never served.
    with_it, without = np.asarray(draw_card(layout)), np.asarray(draw_card(layout_card(plain)))
    assert (with_it != without).any() and card_key(text) != card_key(plain)


@pytest.mark.parametrize(
    "quote, said",
    [
        (" ".join([SPANISH] * 6), " ".join([ENGLISH] * 6)),  # both long: both shortened, the quote keeps more
        (" ".join([SPANISH] * 6), "Yes."),  # a long quote, a short interpretation: the quote takes the room left
        ("Sí.", " ".join([ENGLISH] * 8)),  # a short quote, a long interpretation
    ],
)
def test_long_spanish_and_long_interpretation_are_shortened_inside_the_card(quote: str, said: str) -> None:
    meeting = {"title": "Special meeting " * 20, "body": "Vermont Criminal Justice Council", "date": "2024-02-07"}
    layout = layout_card(card_text(interpreted(quote, said, meeting=meeting | {"slug": SLUG}), "Testimony Archive"))
    quote_rows, said_rows = serif(layout), interpretation_rows(layout)
    assert layout.shortened
    for rows, whole in ((quote_rows, quote), (said_rows, said)):
        shown = " ".join(rows)[1:-1]  # without the quotation marks
        if shown.endswith(ELLIPSIS):  # shortened at a word, the words kept in order
            kept = shown[:-1].split()
            assert kept and kept == whole.split()[: len(kept)]
        else:
            assert shown == whole
    assert " ".join(quote_rows).endswith(f"{ELLIPSIS}”") or " ".join(said_rows).endswith(f"{ELLIPSIS}”")
    # The body's name is still whole (the meeting's title gave way), the label is there, nothing leaves the card.
    assert any(line.text.endswith(" · Vermont Criminal Justice Council") for line in layout.lines)
    assert LABEL in [line.text for line in layout.lines]
    for line in layout.lines:
        assert inside(line.box), line
    no_overlaps(layout)
    pixels = np.asarray(draw_card(layout))
    background = np.array(Image.new("RGB", (1, 1), BACKGROUND).getpixel((0, 0)))
    for band in (pixels[:MARGIN_Y], pixels[-MARGIN_Y:], pixels[:, :MARGIN_X], pixels[:, -MARGIN_X:]):
        assert (band == background).all()


def test_the_captioned_video_shows_the_words_heard_not_the_interpretation() -> None:
    text = video_card_text(interpreted(), "Testimony Archive")
    assert text.quote == SPANISH and (text.interpretation, text.interpretation_label) == ("", "")
    frames = plan_frames(text, [])
    assert frames.box == plan_frames(card_text(document(SPANISH), "Testimony Archive"), []).box


INTERPRETED = [
    Line(SPANISH, 10.0, 16.0, speaker="María", role="public commenter", language="es"),
    Line(ENGLISH, 17.0, 23.0, speaker="Ana", role="interpreter"),
]


def test_the_served_card_of_spanish_testimony_carries_its_confirmed_interpretation(client, sessions, settings) -> None:  # type: ignore[no-untyped-def]
    add_meeting(sessions, SLUG, INTERPRETED)
    with sessions() as session, session.begin():
        testimony, interpretation = session.scalars(select(Segment).order_by(Segment.start)).all()
        for segment, start in ((testimony, 10.0), (interpretation, 17.0)):
            segment.words = [
                {"word": w, "start": start + i * 0.3, "end": start + i * 0.3 + 0.25, "probability": 0.9}
                for i, w in enumerate(segment.text.split())
            ]
        slug = create_excerpt(session, SLUG, 10.0, 16.0, "Doce horas", created_by="test").slug
        ids = testimony.id, interpretation.id
    before = card_of(client, slug)
    with sessions() as session, session.begin():
        set_interpretation(session, ids[1], [ids[0]], actor="curator@example.org")
    after = card_of(client, slug)
    assert after.status_code == 200 and after.data != before.data and after.headers["ETag"] != before.headers["ETag"]
    with sessions() as session:
        excerpt = session.scalars(select(Excerpt)).one()
        text = card_text(excerpt_document(session, excerpt), "Testimony Archive")
    assert text.quote == SPANISH and text.interpretation == ENGLISH and text.interpretation_label == LABEL
    # The page's description of the image says so too.
    page = client.get(f"/excerpts/{slug}").get_data(as_text=True)
    assert f'<meta property="og:image:alt" content="Quote card: “{SPANISH}” — María. {LABEL} “{ENGLISH[:40]}' in page
    # Read back, the served PNG is exactly the layout of those words (PNG is lossless).
    served = np.asarray(Image.open(io.BytesIO(after.data)).convert("RGB"))
    assert (served == np.asarray(draw_card(layout_card(replace(text, site=settings.site_name))))).all()
