"""Swear words Whisper writes with asterisks ("f**king") are found by the word said, on every backend; the text
stays as the machine wrote it."""

from __future__ import annotations

import datetime as dt

import pytest

from archive.search import SearchRequest
from archive.search.censored import searchable, spelled
from archive.search.index import index_meeting
from tests.factories.meetings import Line, add_meeting

SLUG = "2024-02-07-criminal-justice-council"
LINES = [
    Line("When a police car drives behind me, my hands shake on the wheel.", 24.6, 28.9, "Ana", "farmworker"),
    Line("You're f**king here illegally and you're worried about being safe?", 29.7, 32.8, "Deputy", "deputy"),
    Line("What a s***show, a f***ing mess.", 40.0, 43.0, "Deputy", "deputy"),
]


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("You're f**king here", "You're fucking here"),
        ("F***ing hell", "fucking hell"),
        ("f*** this", "fuck this"),
        ("that's s**t.", "that's shit."),
        ("a b***h", "a bitch"),
        ("fucke* or fucker", "fucked or fucker"),  # two would fit: the first of SWEAR_WORDS
        ("****", "****"),  # no letter shown: nothing to read
        ("x**y and 2*3", "x**y and 2*3"),  # no swear word fits; arithmetic is not a word
        ("fucking", "fucking"),
    ],
)
def test_a_hidden_word_is_read_by_its_visible_letters(written: str, read: str) -> None:
    assert searchable(written) == read


def test_only_a_word_that_fits_every_visible_letter_is_read() -> None:
    assert spelled("f**k") == "fuck" and spelled("s**t") == "shit"
    assert spelled("f**d") is None and spelled("q***") is None


def test_the_word_said_finds_the_word_hidden_and_the_text_stays_as_written(archive) -> None:  # type: ignore[no-untyped-def]
    _, sessions, backend = archive
    add_meeting(sessions, SLUG, LINES, title="Criminal Justice Council", date=dt.date(2024, 2, 7))
    with sessions() as session:
        index_meeting(backend, session, SLUG)
    found = backend.search(SearchRequest(q="fucking"))
    assert sorted(hit.start for hit in found.hits) == [29.7, 40.0]
    assert "f**king here illegally" in next(hit.highlight for hit in found.hits if hit.start == 29.7)
    assert [hit.start for hit in backend.search(SearchRequest(q='"fucking here illegally"')).hits] == [29.7]
    assert [hit.start for hit in backend.search(SearchRequest(q="shit")).hits] == []  # "s***show" fits no word
    assert backend.search(SearchRequest(q="illegally", meeting=SLUG)).total == 1
