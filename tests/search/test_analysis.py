"""The index's analyzers give exactly the tokens of the Whoosh chains they replace (archive/search/whoosh.py)."""

from __future__ import annotations

import pickle

import pytest
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemmingAnalyzer
from whoosh.highlight import WholeFragmenter, highlight
from whoosh.support.charset import accent_map

from archive.search.whoosh.analysis import _WORDS, NAME_ANALYZER, TEXT_ANALYZER, MarkFormatter, marked_whole
from archive.search.whoosh.backend import SCHEMA

WHOOSH_TEXT = StemmingAnalyzer(stoplist=None, minsize=1) | CharsetFilter(accent_map)
WHOOSH_NAME = RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)

TEXTS = [
    "You're f---ing here illegally and you're worried about being safe?",
    "I want to feel safe driving to the GROCERY STORE.",
    "José Martínez testified; Ñandú, Œuvre, straße, İstanbul, ǅemal.",
    "Running runners ran: the councils' deliberations (continued) on 3.14 and U.S. policy.",
    "hot-mic remarks at 1:02:03, e-mail, foo_bar, ｆｕｌｌｗｉｄｔｈ ＡＢＣ",
    "Les élèves étaient déjà là — ça va? Sí, señora. Привет мир. 你好",
    "   ",
    "",
    "*wild* cards* and a.b.c",
]
MODES = [
    {},
    {"positions": True},
    {"chars": True},
    {"positions": True, "chars": True, "keeporiginal": True},
    {"positions": True, "chars": True, "start_pos": 7, "start_char": 30},
    {"mode": "query"},
    {"mode": "index", "removestops": False, "chars": True},
    {"tokenize": False, "positions": True, "chars": True},
]


def tokens(analyzer, text: str, options: dict) -> list[tuple]:  # type: ignore[no-untyped-def,type-arg]
    found = []
    for token in analyzer(text, **options):
        found.append(
            tuple(
                getattr(token, name, None)
                for name in ("text", "pos", "startchar", "endchar", "original", "boost", "stopped")
            )
        )
    return found


@pytest.mark.parametrize("options", MODES, ids=repr)
@pytest.mark.parametrize(
    ("ours", "whoosh"), [(TEXT_ANALYZER, WHOOSH_TEXT), (NAME_ANALYZER, WHOOSH_NAME)], ids=["text", "name"]
)
def test_the_same_tokens_as_the_whoosh_chain(ours, whoosh, options) -> None:  # type: ignore[no-untyped-def]
    for text in TEXTS:
        assert tokens(ours, text, options) == tokens(whoosh, text, options), text


def test_the_tokens_are_folded_and_stemmed() -> None:
    """Not only equal to Whoosh: what the search promises (accents fold, words stem, names do not)."""
    assert [t.text for t in TEXT_ANALYZER("José TESTIFIED councils")] == ["jose", "testifi", "council"]
    assert [t.text for t in NAME_ANALYZER("José TESTIFIED councils")] == ["jose", "testified", "councils"]


def test_the_schema_survives_the_index_table_of_contents() -> None:
    """Whoosh pickles the schema into every index; the analyzers must come back working."""
    schema = pickle.loads(pickle.dumps(SCHEMA))
    assert [t.text for t in schema["text"].analyzer("Martínez testified")] == ["martinez", "testifi"]


def test_repeated_fields_index_as_whoosh_fields_do() -> None:
    """Fields whose values repeat remember each value's terms: the same terms as Whoosh's, every time."""
    from whoosh.fields import ID, KEYWORD

    from archive.search.whoosh.backend import RepeatedID, RepeatedKeyword

    pairs = [
        (RepeatedKeyword(analyzer=TEXT_ANALYZER, stored=True), KEYWORD(analyzer=WHOOSH_TEXT, stored=True)),
        (RepeatedKeyword(analyzer=NAME_ANALYZER), KEYWORD(analyzer=WHOOSH_NAME)),
        (RepeatedID(stored=True, sortable=True), ID(stored=True, sortable=True)),
    ]
    for ours, whoosh in pairs:
        for value in ["Public Comment on Policing", "José Martínez", "public commenter", "Public Comment on Policing"]:
            assert ours.index(value) == list(whoosh.index(value)), value


MARKUP = "<script>alert(1)</script> & safe > sorry \"quoted\" 'single' drivers"


def indexed_forms(text: str) -> list[str]:
    return [token.text for token in TEXT_ANALYZER(text)]


@pytest.mark.parametrize("text", [*TEXTS, MARKUP])
@pytest.mark.parametrize("which", ["none", "every other word", "every word", "absent words"])
def test_whole_segments_are_marked_as_whoosh_marks_them(text: str, which: str) -> None:
    forms = indexed_forms(text)
    words = frozenset(
        {"none": [], "every other word": forms[::2], "every word": forms, "absent words": ["zzz", "safe"]}[which]
    )
    whoosh = highlight(text, words, TEXT_ANALYZER, WholeFragmenter(), MarkFormatter(), top=3, mode="index")
    ours = marked_whole(text, words)
    assert ours == whoosh
    assert "<script>" not in ours
    if which == "every word" and forms:
        assert ours.count("<mark>") == len(forms)


@pytest.mark.parametrize("text", [*TEXTS, MARKUP])
def test_marking_splits_the_text_into_the_analysers_words(text: str) -> None:
    words = [match.group() for match in TEXT_ANALYZER.expression.finditer(text)]
    assert _WORDS.split(text)[1::2] == words
