"""A person's query string → a Whoosh query: plain words are made directly, exactly as Whoosh's parser makes them."""

from __future__ import annotations

import random

import pytest

from archive.search.whoosh.backend import SCHEMA
from archive.search.whoosh.query import _parsed_by_whoosh, _plain_words, parse_user_query

# English and Spanish words, accents, capitals, digits, words the stemmers change and words they leave alone,
# operators in lower case (only capitals are operators), and letters from other scripts.
LINES = (
    "the council budget hearing testimony grocery store illegally children driving safe border patrol police",
    "José policía trabajadores trabajar café niños comunidad Ünïcödé naïve straße ÉCOLE İstanbul",
    "2024 1961 a1b2 x I and or not to To Not ANDs ORs 日本語 Ⅻ x² ß",
)
WORDS = [word for line in LINES for word in line.split()]


def test_plain_words_make_the_query_whooshs_parser_makes() -> None:
    rng = random.Random(17)
    queries = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5))) for _ in range(2000)]
    queries += ["the the the", "safe  driving", "safe\tdriving", "safe\u00a0driving", "José"]
    for text in queries:
        made = _plain_words(text, SCHEMA)
        assert made is not None, text  # every one of these is plain words
        parsed = _parsed_by_whoosh(text, SCHEMA)
        assert made == parsed and repr(made) == repr(parsed), text


@pytest.mark.parametrize(
    "text",
    [
        '"border patrol"',
        "groc*",
        "speaker:rosa safe",
        "safe OR border",
        "NOT safe",
        "safe AND border",
        "safe ANDNOT border",
        "safe REQUIRE border",
        "hot-mic",
        "date:2024",
        "(safe border)",
        "safe^2",
        "snake_case",
        "it's",
        "café.",
    ],
)
def test_anything_but_plain_words_is_read_by_whooshs_parser(text: str) -> None:
    assert _plain_words(text, SCHEMA) is None
    assert parse_user_query(text, SCHEMA).query == _parsed_by_whoosh(text, SCHEMA)


def test_a_plain_query_reads_as_all_of_its_words_in_either_language() -> None:
    parsed = parse_user_query("  José  trabajadores ", SCHEMA)
    assert parsed.message is None
    assert repr(parsed.query) == (
        "And([Or([Term('text', 'jose'), Term('text_es', 'jos')]),"
        " Or([Term('text', 'trabajador'), Term('text_es', 'trabaj')])])"
    )
