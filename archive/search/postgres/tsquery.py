"""A person's query string → a small tree → PostgreSQL tsquery text that cannot fail.

Words, "phrases", prefix*, OR, NOT/-, parentheses and field:value are read into the tree; its text parts become
to_tsquery text made only of quoted operands and operators; field values stay values (bound parameters in SQL).
Whatever cannot be read (unbalanced quotes, lone operators, unknown fields, bad dates) is left out, with a note.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from archive.locales import Text, sentences
from archive.search import CUT, MAX_QUERY_CHARACTERS, TRY_AGAIN, UNREADABLE, bad_date, unknown_field

MAX_DEPTH = 20  # nesting of parentheses and NOTs; deeper ones are ignored (their words still count)

# As archive/search/query.py says them for the Whoosh backend, where the two backends do the same thing.

# Field names people may type (and their aliases) → the field they mean.
FIELDS = {
    "text": "text",
    "speaker": "speaker",
    "role": "role",
    "body": "body",
    "kind": "kind",
    "meeting": "meeting",
    "tag": "tags",
    "tags": "tags",
    "title": "title",
    "meeting_title": "title",
    "date": "date",
    "language": "language",
    "lang": "language",
}

# --- the query tree ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """Text to find: one quoted to_tsquery operand (several words in it make a phrase), maybe a prefix."""

    operand: str


@dataclass(frozen=True)
class Field:
    """field:value on the segment's speaker, role, body, kind, meeting, tags or meeting title."""

    name: str
    value: str
    prefix: bool = False


@dataclass(frozen=True)
class Dates:
    """Meetings from first to last, both included; None is open."""

    first: dt.date | None
    last: dt.date | None


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Words | Field | Dates | Not | And | Or


def all_of(parts: Iterable[Node | None]) -> Node | None:
    return _group(And, parts)


def any_of(parts: Iterable[Node | None]) -> Node | None:
    return _group(Or, parts)


def _group(kind: type[And] | type[Or], parts: Iterable[Node | None]) -> Node | None:
    flat: list[Node] = []
    for part in parts:
        if isinstance(part, kind):
            flat.extend(part.children)
        elif part is not None:
            flat.append(part)
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def is_text(node: Node) -> bool:
    """True when the node is words only, so to_tsquery can take all of it in one operand tree."""
    if isinstance(node, Words):
        return True
    if isinstance(node, Not):
        return is_text(node.child)
    if isinstance(node, (And, Or)):
        return all(is_text(child) for child in node.children)
    return False


def tsquery_text(node: Node, weight: str = "") -> str:
    """to_tsquery input for a words-only node; with a weight (A, B), each operand matches only lexemes of it."""
    if isinstance(node, Words):
        if not weight:
            return node.operand
        return node.operand + weight if node.operand.endswith(":*") else f"{node.operand}:{weight}"
    if isinstance(node, Not):
        return f"!({tsquery_text(node.child, weight)})"
    assert isinstance(node, (And, Or))
    joiner = " & " if isinstance(node, And) else " | "
    return joiner.join(f"({tsquery_text(child, weight)})" for child in node.children)


def wanted_words(node: Node | None) -> Node | None:
    """The words a match is ranked and highlighted by: the tree without its NOTs and fields."""
    if isinstance(node, Words):
        return node
    if isinstance(node, And):
        return all_of(wanted_words(child) for child in node.children)
    if isinstance(node, Or):
        return any_of(wanted_words(child) for child in node.children)
    return None


# --- reading a query string -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<open>\()
    | (?P<close>\))
    | (?P<minus>-)(?=[^\s)\-])      # -word, -"a phrase", -(…), -kind:x; a lone "-" is nothing
    | (?P<field>[A-Za-z_]+):(?P<value>"[^"]*"?|\[[^\]]*\]?|\([^)]*\)?|[^\s()"]*)
    | (?P<phrase>"[^"]*"?)
    | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)
_OPERATORS = {"OR": "or", "AND": "and", "NOT": "not"}
_HAS_WORD = re.compile(r"[^\W_]")
# Not for to_tsquery's quoting (\) or read as markup by the text parser (< >, as testimony_search_text does);
# wildcards inside a word are not supported, so they split it like any punctuation.
_OPERAND_UNSAFE = re.compile(r"[\\<>*?]")
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_SUFFIXES = re.compile(r"(?:[\^~][\d.]*)+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Token:
    kind: str  # open, close, minus, field, phrase, word, or, and, not
    text: str
    value: str = ""


@dataclass
class ParsedQuery:
    tree: Node | None  # None: no words and no fields to search for
    notes: list[Text] = field(default_factory=list)

    @property
    def message(self) -> str | None:
        return sentences(list(self.notes))


def parse_query(query: str) -> ParsedQuery:
    """A person's query string → a tree and notes on what was left out; never raises."""
    notes: list[Text] = []
    # NUL cannot reach PostgreSQL at all and other control characters mean nothing in a query.
    cleaned = unicodedata.normalize("NFC", _CONTROL.sub(" ", query or "")).strip()
    if len(cleaned) > MAX_QUERY_CHARACTERS:
        cleaned = cleaned[:MAX_QUERY_CHARACTERS]
        notes.append(CUT)
    reader = QueryReader(list(tokens(cleaned)))
    tree = reader.read()
    if reader.unknown:
        notes.append(unknown_field(", ".join(sorted(reader.unknown))))
    notes.extend(bad_date(value) for value in reader.bad_dates)
    if reader.repaired and tree is not None:
        notes.append(UNREADABLE)
    if tree is None:
        notes.append(TRY_AGAIN)
    return ParsedQuery(tree, notes)


def tokens(query: str) -> Iterator[Token]:
    for match in _TOKEN.finditer(query):
        kind = match.lastgroup if match.lastgroup != "value" else "field"
        if kind == "space":
            continue
        if kind == "field":
            yield Token("field", match["field"], match["value"])
        elif kind == "word" and match["word"] in _OPERATORS:
            yield Token(_OPERATORS[match["word"]], match["word"])
        else:
            yield Token(kind or "word", match.group())


class QueryReader:
    """Reads tokens into a tree: OR binds loosest, then AND (also between bare terms), then NOT and -.

    Anything it cannot place (a ")" without "(", an operator with nothing beside it, an empty field) is
    left out and noted in `repaired`, never raised.
    """

    def __init__(self, tokens: list[Token], field: str = "text") -> None:
        self.tokens = tokens
        self.field = field  # what bare words and phrases are matched against: inside speaker:(…), speaker
        self.at = 0
        self.repaired = False
        self.unknown: set[str] = set()
        self.bad_dates: list[str] = []

    def read(self) -> Node | None:
        parts = []
        while self._peek() is not None:
            parts.append(self._or(0))
            if self._peek() == "close":  # a ")" that closes nothing
                self.at += 1
                self.repaired = True
        return all_of(parts)

    def _peek(self) -> str | None:
        return self.tokens[self.at].kind if self.at < len(self.tokens) else None

    def _or(self, depth: int) -> Node | None:
        parts = [self._and(depth)]
        while self._peek() == "or":
            self.at += 1
            parts.append(self._and(depth))
        if len(parts) > 1 and None in parts:  # "OR border", "border OR"
            self.repaired = True
        return any_of(parts)

    def _and(self, depth: int) -> Node | None:
        parts = []
        while self._peek() not in (None, "close", "or"):
            if self._peek() == "and":
                self.at += 1
                continue
            parts.append(self._unary(depth))
        return all_of(parts)

    def _unary(self, depth: int) -> Node | None:
        token = self.tokens[self.at]
        self.at += 1
        if token.kind in ("open", "not", "minus") and depth >= MAX_DEPTH:
            self.repaired = True
            return None
        if token.kind in ("not", "minus"):
            if self._peek() in (None, "close", "or", "and"):  # nothing to leave out
                self.repaired = True
                return None
            child = self._unary(depth + 1)
            return Not(child) if child is not None else None
        if token.kind == "open":
            node = self._or(depth + 1)
            if self._peek() == "close":
                self.at += 1
            else:
                self.repaired = True
            return node
        if token.kind == "field":
            return self._field(token.text, token.value)
        return self._value(self.field, token.text)

    def _field(self, name: str, value: str) -> Node | None:
        meaning = FIELDS.get(name.lower())
        if meaning is None:  # searched as words, name and value, as the Whoosh backend does
            self.unknown.add(name)
            return all_of([operand(name), self._value("text", value)])
        if meaning == "date":
            return self._dates(value)
        if not value:  # "speaker:" with nothing after it
            self.repaired = True
            return None
        return self._value(meaning, value)

    def _value(self, meaning: str, value: str) -> Node | None:
        """A word, "a phrase" or a (group OR of them), matched against text or one field."""
        if value.startswith("("):
            group = QueryReader(list(tokens(self._inside(value, ")"))), field=meaning)
            node = group.read()
            self.repaired |= group.repaired
            self.unknown |= group.unknown
            self.bad_dates += group.bad_dates
            return node
        if value.startswith('"'):
            inside = self._inside(value, '"')
            if not value.endswith('"') or len(value) < 2:  # an unbalanced quote: its words, not a phrase
                return all_of(self._value(meaning, word) for word in inside.split())
            return self._leaf(meaning, inside, prefix=False)
        if value.startswith("["):
            return self._leaf(meaning, self._inside(value, "]"), prefix=False)
        bare = _SUFFIXES.sub("", value).rstrip("*")  # Whoosh's boost^2 and fuzzy~ mean nothing here
        return self._leaf(meaning, bare, prefix=bare != _SUFFIXES.sub("", value))

    def _leaf(self, meaning: str, value: str, prefix: bool) -> Node | None:
        if meaning == "text":
            return operand(value, prefix)
        if not _HAS_WORD.search(value):
            self.repaired = True
            return None
        return Field(meaning, value.strip(), prefix)

    def _inside(self, value: str, closer: str) -> str:
        """What a "…", (…) or […] holds; an unclosed one is noted and read to the end."""
        closed = len(value) > 1 and value.endswith(closer)
        self.repaired |= not closed
        return value[1:-1] if closed else value[1:]

    def _dates(self, value: str) -> Node | None:
        closers = {"[": "]", "(": ")", '"': '"'}
        inside = self._inside(value, closers[value[0]]) if value[:1] in closers else value
        bounds = re.split(r"\bto\b", inside, maxsplit=1, flags=re.IGNORECASE)
        first, last = bounds[0].strip(), (bounds[1].strip() if len(bounds) > 1 else bounds[0].strip())
        start, end = period(first), period(last)
        if not (first or last) or (first and start is None) or (last and end is None):
            self.bad_dates.append(value)
            return None
        return Dates(start[0] if start else None, end[1] if end else None)


def operand(words: str, prefix: bool = False) -> Words | None:
    """One quoted to_tsquery operand; PostgreSQL's parser splits it as it split the transcript (a phrase)."""
    if not _HAS_WORD.search(words):
        return None
    quoted = _OPERAND_UNSAFE.sub(" ", words).replace("'", "''")
    return Words(f"'{quoted}'" + (":*" if prefix else ""))


def period(value: str) -> tuple[dt.date, dt.date] | None:
    """2024 → the year, 2024-02 → the month, 2024-02-07 → the day."""
    match = _DATE.fullmatch(value)
    if match is None:
        return None
    year = int(match[1])
    try:
        if match[3]:
            day = dt.date(year, int(match[2]), int(match[3]))
            return day, day
        if match[2]:
            month = int(match[2])
            return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    except (ValueError, calendar.IllegalMonthError):  # year 0, month 13, 30 February
        return None
