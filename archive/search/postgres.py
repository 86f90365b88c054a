"""The PostgreSQL backend: full-text search on segments.search_vector, which the database keeps in sync.

The vector is a generated column with a GIN index (migration 0002), so there is nothing to write here:
indexing, removing and rebuilding only count. A search is one statement, answered in one row: the number of
matches, the page of hits with their highlights, and the facet counts over every match.

A person's query string is read into a small tree (words, "phrases", prefix*, OR, NOT/-, parentheses,
field:value). Its text parts become to_tsquery text made only of quoted operands and operators, so no input
can make to_tsquery fail; field values and request filters reach SQL as bound parameters. Whatever cannot be
read (unbalanced quotes, lone operators, unknown fields, bad dates) is left out and the page says so.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from markupsafe import escape
from sqlalchemy import text

from archive.db.session import make_engine
from archive.search import MAX_QUERY_CHARACTERS, FacetCount, SearchHit, SearchPage, SearchRequest
from archive.search.documents import SegmentDocument

# The configurations of migration 0002; constants, so they are written into the SQL text.
TEXT_CONFIG = "testimony_english"  # Snowball stems, no stop words, accents folded
NAME_CONFIG = "testimony_names"  # whole words, accents folded
SNIPPET_CHARACTERS = 400  # as the Whoosh backend: shorter segments are shown whole
MAX_DEPTH = 20  # nesting of parentheses and NOTs; deeper ones are ignored (their words still count)

# As archive/search/query.py says them for the Whoosh backend, where the two backends do the same thing.
TRY_AGAIN = 'Type a word or a "quoted phrase" to search.'
NO_MATCH = "No testimony matches. Try fewer words, another spelling, or remove a filter."
CUT = f"Only the first {MAX_QUERY_CHARACTERS} characters of the query were used."
UNREADABLE = (
    "Part of the query could not be read as written (an unclosed quote or bracket, or AND/OR/NOT with nothing"
    " beside it) and was read as plain words or left out."
)
FIELD_LIST = "fields: speaker, kind, meeting, tag, date"
BAD_DATE = "was left out: dates are written date:2024, date:2024-02 or date:[2023-01 to 2024-06-30]"

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
}

# Markers ts_headline puts around matches; migration 0002's testimony_search_text removes them from the text.
START, STOP = "\x02", "\x03"
WHOLE = f"HighlightAll=true, StartSel={START}, StopSel={STOP}"
FRAGMENTS = f'MaxFragments=3, MinWords=12, MaxWords=30, FragmentDelimiter=" … ", StartSel={START}, StopSel={STOP}'
# testimony_search_text writes < and > as these, so the parser does not take transcript text for HTML tags.
ANGLES_BACK = str.maketrans({"\x01": "<", "\x04": ">"})


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


def tsquery_text(node: Node) -> str:
    """to_tsquery input for a words-only node."""
    if isinstance(node, Words):
        return node.operand
    if isinstance(node, Not):
        return f"!({tsquery_text(node.child)})"
    assert isinstance(node, (And, Or))
    joiner = " & " if isinstance(node, And) else " | "
    return joiner.join(f"({tsquery_text(child)})" for child in node.children)


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
    notes: list[str] = field(default_factory=list)

    @property
    def message(self) -> str | None:
        return " ".join(self.notes) or None


def parse_query(query: str) -> ParsedQuery:
    """A person's query string → a tree and notes on what was left out; never raises."""
    notes: list[str] = []
    # NUL cannot reach PostgreSQL at all and other control characters mean nothing in a query.
    cleaned = unicodedata.normalize("NFC", _CONTROL.sub(" ", query or "")).strip()
    if len(cleaned) > MAX_QUERY_CHARACTERS:
        cleaned = cleaned[:MAX_QUERY_CHARACTERS]
        notes.append(CUT)
    reader = QueryReader(list(tokens(cleaned)))
    tree = reader.read()
    if reader.unknown:
        notes.append(f"Unknown field {', '.join(sorted(reader.unknown))}: searched as words ({FIELD_LIST}).")
    notes.extend(f"date:{value} {BAD_DATE}." for value in reader.bad_dates)
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


# --- SQL -------------------------------------------------------------------------------------------------

SEARCH_SQL = """
WITH matches AS MATERIALIZED (
    SELECT s.id, s.start, s.meeting_id, s.speaker_id, s.kind, m.date AS meeting_date, {rank} AS rank
    FROM segments AS s
    JOIN meetings AS m ON m.id = s.meeting_id{joins}
    WHERE {where}
),
page AS (
    SELECT id, start, meeting_date, rank FROM matches ORDER BY {order} LIMIT :limit OFFSET :offset
),
hits AS (
    SELECT page.id, page.start, page.meeting_date, page.rank, json_build_object(
        'id', s.id, 'slug', m.slug, 'title', m.title, 'date', m.date, 'body', b.name,
        'speaker_id', s.speaker_id, 'speaker_name', sp.name, 'speaker_role', sp.role, 'kind', s.kind,
        'start', s.start, 'end', s."end", 'text', s.text,
        'headline', {headline}
    ) AS hit
    FROM page
    JOIN segments AS s ON s.id = page.id
    JOIN meetings AS m ON m.id = s.meeting_id
    JOIN bodies AS b ON b.id = m.body_id
    LEFT JOIN speakers AS sp ON sp.id = s.speaker_id
),
counts AS (
    -- Counted by id first and named after: a few thousand names to look up, not one per match.
    -- In each grouping set the other columns are NULL, so the joins below pick their own set.
    SELECT speaker_id, kind, meeting_id, GROUPING(kind) = 0 AS by_kind, count(*) AS n
    FROM matches
    GROUP BY GROUPING SETS ((speaker_id), (kind), (meeting_id))
),
facets AS (
    SELECT 'speaker' AS facet, sp.name AS value, sum(n) AS n
    FROM counts JOIN speakers AS sp ON sp.id = counts.speaker_id GROUP BY sp.name
    UNION ALL
    SELECT 'kind', kind, n FROM counts WHERE by_kind
    UNION ALL
    SELECT 'meeting', m.slug, n FROM counts JOIN meetings AS m ON m.id = counts.meeting_id
    UNION ALL
    SELECT 'year', extract(year FROM m.date)::int::text, sum(n)
    FROM counts JOIN meetings AS m ON m.id = counts.meeting_id GROUP BY 2
)
SELECT (SELECT count(*) FROM matches) AS total,
       (SELECT coalesce(json_agg(hit ORDER BY {order}), '[]'::json) FROM hits) AS hits,
       (SELECT coalesce(json_agg(json_build_array(facet, value, n)), '[]'::json) FROM facets) AS facets
"""
BY_RELEVANCE = "rank DESC, meeting_date DESC, start, id"
BY_DATE = "meeting_date DESC, start, id"
HEADLINE = (
    f"ts_headline('{TEXT_CONFIG}', testimony_search_text(s.text), {{tsquery}},"
    f" CASE WHEN length(s.text) <= {SNIPPET_CHARACTERS} THEN :whole ELSE :fragments END)"
)
# Joined into the matches only when a condition needs them (speaker:, role:, body:, the speaker filter).
JOINS = {
    "sp": "\n    LEFT JOIN speakers AS sp ON sp.id = s.speaker_id",
    "b": "\n    JOIN bodies AS b ON b.id = m.body_id",
}
NAME_COLUMNS = {"speaker": ("sp", "sp.name"), "role": ("sp", "sp.role"), "body": ("b", "b.name")}


class Statement:
    """The WHERE clause of one search, its bound parameters (p0, p1, … in order) and the tables it needs."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.joins: set[str] = set()

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def tsquery(self, node: Node, config: str = TEXT_CONFIG) -> str:
        return f"to_tsquery('{config}', {self.bind(tsquery_text(node))})"

    def condition(self, node: Node) -> str:
        if is_text(node):  # one @@ for all of it, which the GIN index answers
            return f"s.search_vector @@ {self.tsquery(node)}"
        if isinstance(node, Not):
            return f"NOT ({self.condition(node.child)})"
        if isinstance(node, (And, Or)):
            words = [child for child in node.children if is_text(child)]
            others = [child for child in node.children if not is_text(child)]
            grouped = all_of(words) if isinstance(node, And) else any_of(words)
            parts = ([self.condition(grouped)] if grouped is not None else []) + [self.condition(c) for c in others]
            return "(" + (" AND " if isinstance(node, And) else " OR ").join(parts) + ")"
        if isinstance(node, Dates):
            return self.dates(node.first, node.last)
        assert isinstance(node, Field)
        return self.field(node)

    def field(self, node: Field) -> str:
        words = operand(node.value, node.prefix)
        assert words is not None  # the reader keeps only values with a word in them
        if node.name in NAME_COLUMNS:
            table, column = NAME_COLUMNS[node.name]
            self.joins.add(table)
            document = f"to_tsvector('{NAME_CONFIG}', testimony_search_text(coalesce({column}, '')))"
            return f"{document} @@ {self.tsquery(words, NAME_CONFIG)}"
        if node.name == "title":
            return f"to_tsvector('{TEXT_CONFIG}', testimony_search_text(m.title)) @@ {self.tsquery(words)}"
        if node.name == "kind":  # NULL-safe, so -kind:remark keeps the segments nobody gave a kind
            return f"coalesce(s.kind = {self.bind(node.value.lower())}, false)"
        if node.name == "meeting":
            return f"m.slug = {self.bind(node.value)}"
        # tags is a JSON list (json, not jsonb); anything else in it (a JSON null) has no tags.
        return (
            "EXISTS (SELECT 1 FROM json_array_elements_text(CASE WHEN json_typeof(s.tags) = 'array' THEN s.tags END)"
            f" AS tag WHERE lower(tag) = {self.bind(node.value.lower())})"
        )

    def dates(self, first: dt.date | None, last: dt.date | None) -> str:
        bounds = [f"m.date >= {self.bind(first)}"] if first else []
        bounds += [f"m.date <= {self.bind(last)}"] if last else []
        return "(" + " AND ".join(bounds or ["TRUE"]) + ")"

    def request_filters(self, request: SearchRequest) -> list[str]:
        """The filters of form fields and API parameters: exact values, always bound."""
        conditions = []
        if request.speaker:
            self.joins.add("sp")
            conditions.append(f"sp.name = {self.bind(request.speaker)}")
        if request.kind:
            conditions.append(f"s.kind = {self.bind(request.kind)}")
        if request.meeting:
            conditions.append(f"m.slug = {self.bind(request.meeting)}")
        if request.date_from or request.date_to:
            conditions.append(self.dates(request.date_from, request.date_to))
        return conditions


def search_sql(statement: Statement, tree: Node | None, request: SearchRequest) -> str:
    """The one statement of a search; `statement` collects its parameters."""
    where = ([statement.condition(tree)] if tree is not None else []) + statement.request_filters(request)
    wanted = wanted_words(tree)
    wanted_tsquery = statement.tsquery(wanted) if wanted is not None else None
    ranked = wanted_tsquery is not None and request.sort != "date"
    return SEARCH_SQL.format(
        rank=f"ts_rank_cd(s.search_vector, {wanted_tsquery})" if ranked else "0",
        joins="".join(join for table, join in JOINS.items() if table in statement.joins),
        where=" AND ".join(where),
        headline=HEADLINE.format(tsquery=wanted_tsquery) if wanted_tsquery is not None else "NULL",
        order=BY_RELEVANCE if ranked else BY_DATE,
    )


# --- the backend -----------------------------------------------------------------------------------------


class PostgresBackend:
    name = "postgres"

    def __init__(self, url: str) -> None:
        # One engine per backend object: the web process keeps one backend, so one pool.
        self.engine = make_engine(url)
        # The CLI and ingest open a backend per command and never close it: its pooled connections are
        # closed when it is collected, rather than left for the garbage collector to find still open.
        self._dispose = weakref.finalize(self, self.engine.dispose)

    def close(self) -> None:
        self._dispose()

    # --- writing: the database does it (search_vector is a generated column) -----------------------------

    def index_documents(self, slug: str, documents: Iterable[SegmentDocument]) -> int:
        """Nothing to write; the number of the meeting's segments, as the Whoosh backend reports."""
        return self._count(
            "SELECT count(*) FROM segments AS s JOIN meetings AS m ON m.id = s.meeting_id WHERE m.slug = :slug",
            slug=slug,
        )

    def remove_meeting(self, slug: str) -> None:
        """Nothing to remove: a meeting's segments leave the search with their rows."""

    def rebuild(self, documents: Iterable[SegmentDocument]) -> int:
        """Nothing to rebuild: the database computed every vector; the number of segments."""
        return self._count("SELECT count(*) FROM segments")

    def document_ids(self) -> set[int]:
        """The segments search can find (for `testimony check`)."""
        with self.engine.connect() as connection:
            return set(connection.scalars(text("SELECT id FROM segments WHERE search_vector IS NOT NULL")))

    def _count(self, sql: str, **params: object) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(text(sql), params) or 0)

    # --- reading -----------------------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchPage:
        parsed = parse_query(request.q)
        filters = (request.speaker, request.kind, request.meeting)
        if parsed.tree is None and not any(filters) and not (request.date_from or request.date_to):
            return _empty_page(request, parsed.message)
        if any("\x00" in value for value in filters if value):  # PostgreSQL text cannot hold NUL: no match
            return _empty_page(request, parsed.message or NO_MATCH)
        statement = Statement()
        sql = search_sql(statement, parsed.tree, request)
        params = {
            **statement.params,
            "limit": max(request.per_page, 0),
            "offset": max(request.page - 1, 0) * max(request.per_page, 0),
            "whole": WHOLE,
            "fragments": FRAGMENTS,
        }
        with self.engine.connect() as connection:
            row = connection.execute(text(sql), params).one()
        message = parsed.message
        if row.total == 0 and message is None:
            message = NO_MATCH
        hits = [_hit(hit) for hit in row.hits]
        return SearchPage(request.q, int(row.total), request.page, request.per_page, hits, _facets(row.facets), message)


def _empty_page(request: SearchRequest, message: str | None) -> SearchPage:
    return SearchPage(request.q, 0, request.page, request.per_page, [], {}, message)


def _hit(row: dict[str, Any]) -> SearchHit:
    return SearchHit(
        segment_id=int(row["id"]),
        meeting_slug=row["slug"],
        meeting_title=row["title"],
        meeting_date=dt.date.fromisoformat(row["date"]),
        body=row["body"],
        speaker_id=row["speaker_id"],
        speaker_name=row["speaker_name"],
        speaker_role=row["speaker_role"],
        kind=row["kind"],
        start=float(row["start"]),
        end=float(row["end"]),
        text=row["text"],
        highlight=highlight(row["headline"], row["text"]),
    )


def highlight(headline: str | None, text: str) -> str:
    """ts_headline's text, HTML-escaped, with its match markers made <mark>; the escaped text without one."""
    if not headline:
        return str(escape(text))
    return str(escape(headline.translate(ANGLES_BACK))).replace(START, "<mark>").replace(STOP, "</mark>")


def _facets(rows: list[list[Any]]) -> dict[str, list[FacetCount]]:
    facets: dict[str, list[FacetCount]] = {"speaker": [], "kind": [], "meeting": [], "year": []}
    for name, value, count in rows:
        if value not in (None, ""):  # unnamed speakers, segments without a kind
            facets[name].append(FacetCount(str(value), int(count)))
    # Sorted here rather than in SQL: Python's order of strings does not depend on the database's collation.
    return {name: sorted(counts, key=lambda f: (-f.count, f.value)) for name, counts in facets.items()}
