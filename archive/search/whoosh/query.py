"""A person's query string → a Whoosh query that never fails.

Supported: words (all must match), "quoted phrases", OR, -exclusion (and NOT), prefix*, field filters
(speaker:, kind:, meeting:, tag:, role:, body:) and dates (date:2024, date:[2023-01 to 2024-06]).
Anything the parser cannot take (unbalanced quotes, stray colons, lone operators, unknown fields)
falls back to the plain words of the input, and the person is told what happened.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from whoosh import query as q
from whoosh.fields import Schema
from whoosh.qparser import FieldAliasPlugin, MultifieldParser
from whoosh.qparser.dateparse import DateParserPlugin

from archive.locales import Text, sentences
from archive.search import CUT, MAX_QUERY_CHARACTERS, TRY_AGAIN, unknown_field

QUERY_FIELDS = {
    "text",
    "text_es",
    "speaker",
    "role",
    "kind",
    "meeting",
    "tags",
    "body",
    "date",
    "meeting_title",
    "language",
}
ALIASES = {"tags": ["tag"], "meeting_title": ["title"], "language": ["lang"]}
# Words are looked for as English and as Spanish (text_es holds Spanish segments, stemmed as Spanish).
TEXT_FIELDS = ["text", "text_es"]
_FIELD_PREFIX = re.compile(r"(?<![\w\"])([A-Za-z_]+):")
# "-word" at the start of a term means NOT word; a hyphen inside a word ("hot-mic") does not.
_EXCLUSION = re.compile(r"(?:(?<=\s)|^)-(?=[\w\"(])")
_WORDS = re.compile(r"\w+", re.UNICODE)
_NULL = type(q.NullQuery)


@dataclass(frozen=True)
class WhooshQuery:
    query: q.Query | None  # None: nothing to search for
    message: str | None = None


def parse_user_query(text: str, schema: Schema) -> WhooshQuery:
    notes: list[Text] = []
    text = (text or "").strip()
    if len(text) > MAX_QUERY_CHARACTERS:
        text = text[:MAX_QUERY_CHARACTERS]
        notes.append(CUT)
    unknown = sorted({f for f in _FIELD_PREFIX.findall(text) if f.lower() not in _field_names()})
    if unknown:
        notes.append(unknown_field(", ".join(unknown)))
    parsed = _parse(_EXCLUSION.sub("NOT ", text), schema)
    if parsed is None:
        words = _WORDS.findall(text)
        if not words:
            return WhooshQuery(None, sentences([*notes, TRY_AGAIN]))
        parsed = _parse(" ".join(words), schema)
        if text != " ".join(words):
            notes.append(Text("The query could not be read as written, so its words were searched."))
    return WhooshQuery(parsed, sentences(list(notes)))


def _field_names() -> set[str]:
    return QUERY_FIELDS | {alias for aliases in ALIASES.values() for alias in aliases}


_parsers = threading.local()


def _parser(schema: Schema) -> MultifieldParser:
    """This thread's parser for the schema. Making one (its plugins, the date grammar above all) cost as much as
    parsing a query with it; a parser keeps nothing of the queries it parses (relative dates are read against the
    time of each parse), but it is not shared between threads."""
    made: tuple[Schema, MultifieldParser] | None = getattr(_parsers, "made", None)
    if made is None or made[0] is not schema:
        parser = MultifieldParser(TEXT_FIELDS, schema)
        parser.add_plugin(FieldAliasPlugin(ALIASES))
        parser.add_plugin(DateParserPlugin(free=False))
        made = _parsers.made = (schema, parser)
    return made[1]


# Words and spaces alone: nothing Whoosh's parser reads as syntax (quotes, fields, prefixes, ranges, groups, boosts)
# but its operators, which are whole words in capitals.
_PLAIN_WORDS = re.compile(r"[^\W_]+(?:\s+[^\W_]+)*")
_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "REQUIRE"})


def _plain_words(text: str, schema: Schema) -> q.Query | None:
    """What the parser makes of a query of plain words (most people's), made directly: each word analysed as each
    text field analyses it, all the words required. None for anything else, or a word the analysis splits or
    drops, which the parser then reads. Parsing was a seventh of a search; tests/search/whoosh/test_query.py checks
    the two give equal queries."""
    if not _PLAIN_WORDS.fullmatch(text):
        return None
    words = []
    for word in text.split():
        if word in _OPERATORS:
            return None
        terms = []
        for fieldname in TEXT_FIELDS:
            tokens = list(schema[fieldname].process_text(word, mode="query"))
            if len(tokens) != 1:
                return None
            terms.append(q.Term(fieldname, tokens[0]))
        words.append(q.Or(terms))
    return q.And(words).normalize()


def _parse(text: str, schema: Schema) -> q.Query | None:
    plain = _plain_words(text, schema)
    return plain if plain is not None else _parsed_by_whoosh(text, schema)


def _parsed_by_whoosh(text: str, schema: Schema) -> q.Query | None:
    parser = _parser(schema)
    try:
        # Parts Whoosh could not read (date:garbage) come back as fresh null queries that normalize()
        # does not recognise; swapping in the singleton lets normalize() drop them.
        parsed = parser.parse(text).accept(lambda node: q.NullQuery if isinstance(node, _NULL) else node).normalize()
    except Exception:  # noqa: BLE001 - Whoosh raises many kinds on odd input; any of them means "fall back"
        return None
    parsed = parsed.accept(_only_public_fields).accept(lambda node: _phrases_where_possible(node, schema)).normalize()
    return None if isinstance(parsed, _NULL) else parsed


def _phrases_where_possible(node: q.Query, schema: Schema) -> q.Query:
    """A "quoted phrase" on a field without word positions (speaker, title…) means all of its words."""
    if isinstance(node, q.Phrase) and not schema[node.fieldname].format.supports("positions"):
        return q.And([q.Term(node.fieldname, word) for word in node.words])
    return node


def _only_public_fields(node: q.Query) -> q.Query:
    """Words aimed at fields people may not query (ids, times) are read as text; ranges on them are dropped."""
    fieldname = getattr(node, "fieldname", None)
    if not node.is_leaf() or fieldname is None or fieldname in QUERY_FIELDS:
        return node
    if isinstance(node, (q.Term, q.Prefix, q.Wildcard)):
        return type(node)("text", node.text)
    return q.NullQuery
