"""The PostgreSQL backend: full-text search on segments.search_vector, which the database keeps in sync.

The vector is a generated column with a GIN index (migration 0002), so there is nothing to write here:
indexing, removing and rebuilding only count. A search is one statement, answered in one row: the number of
matches, the page of hits with their highlights, and the facet counts over every match.

The query string is read by tsquery.py into a tree whose text parts become to_tsquery text that cannot fail;
field values and request filters reach SQL here as bound parameters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import weakref
from collections.abc import Iterable
from typing import Any

from markupsafe import escape
from sqlalchemy import bindparam, event, text

from archive.db.session import make_engine
from archive.locales import Text, sentences
from archive.privacy.view import redact_phrases
from archive.search import FacetCount, SearchHit, SearchPage, SearchRequest
from archive.search.documents import SegmentDocument
from archive.search.postgres.tsquery import (
    And,
    Dates,
    Field,
    Node,
    Not,
    Or,
    all_of,
    any_of,
    is_text,
    operand,
    parse_query,
    tsquery_text,
    wanted_words,
)
from archive.search.spelling import did_you_mean

# The configurations of migration 0002; constants, so they are written into the SQL text.
TEXT_CONFIG = "testimony_english"  # Snowball stems, no stop words, accents folded
SPANISH_CONFIG = "testimony_spanish"  # the same for Spanish (migration 0012): segments in Spanish are stemmed so
NAME_CONFIG = "testimony_names"  # whole words, accents folded
ENGLISH_WEIGHT, SPANISH_WEIGHT = "A", "B"  # the weight of a segment's lexemes by its language (migration 0012)
RANK_WEIGHTS = "'{0.1, 0.2, 1.0, 1.0}'"  # D, C, B, A: both languages' words count alike
# A segment's configuration, as its search vector was made (migration 0012).
SEGMENT_CONFIG = f"(CASE WHEN s.language = 'es' THEN '{SPANISH_CONFIG}'::regconfig ELSE '{TEXT_CONFIG}'::regconfig END)"
SNIPPET_CHARACTERS = 400  # as the Whoosh backend: shorter segments are shown whole

# As the Whoosh backend says it.
NO_MATCH = Text("No testimony matches. Try fewer words, another spelling, or remove a filter.")  # said on the page

# Markers ts_headline puts around matches; migration 0002's testimony_search_text removes them from the text.
START, STOP = "\x02", "\x03"
WHOLE = f"HighlightAll=true, StartSel={START}, StopSel={STOP}"
FRAGMENTS = f'MaxFragments=3, MinWords=12, MaxWords=30, FragmentDelimiter=" … ", StartSel={START}, StopSel={STOP}'
# testimony_search_text writes < and > as these, so the parser does not take transcript text for HTML tags.
ANGLES_BACK = str.maketrans({"\x01": "<", "\x04": ">"})


# --- SQL -------------------------------------------------------------------------------------------------

SEARCH_SQL = """
WITH found AS MATERIALIZED (
    -- The newest matches, one more than the window: that one says whether there are more. The planner walks
    -- the meetings newest first when a word is common, and reads the GIN index when it is not.
    SELECT s.id, s.start, s.meeting_id, s.speaker_id, s.kind, s.language, m.date AS meeting_date{vector}
    FROM segments AS s
    JOIN meetings AS m ON m.id = s.meeting_id{joins}
    WHERE {where}
    ORDER BY m.date DESC, s.start, s.id
    LIMIT :window + 1
),
matches AS MATERIALIZED (
    -- Ranked here, after the window is cut: ts_rank_cd costs as much as finding a match.
    SELECT id, start, meeting_id, speaker_id, kind, language, meeting_date, {rank} AS rank
    FROM found ORDER BY meeting_date DESC, start, id LIMIT :window
),
page AS (
    SELECT id, start, meeting_date, rank FROM matches ORDER BY {order} LIMIT :limit OFFSET :offset
),
hits AS (
    SELECT page.id, page.start, page.meeting_date, page.rank, json_build_object(
        'id', s.id, 'slug', m.slug, 'title', m.title, 'date', m.date, 'body', b.name,
        'speaker_id', {public_person}, 'speaker_name', {public_name}, 'speaker_role', {public_role},
        'speaker_label', sp.label,
        'kind', s.kind, 'language', s.language,
        'start', s.start, 'end', s."end", 'text', coalesce(s.public_text, s.text),
        'headline', {headline}
    ) AS hit
    FROM page
    JOIN segments AS s ON s.id = page.id
    JOIN meetings AS m ON m.id = s.meeting_id
    JOIN bodies AS b ON b.id = m.body_id
    LEFT JOIN speakers AS sp ON sp.id = s.speaker_id
    LEFT JOIN people AS p ON p.id = sp.person_id
),
counts AS (
    -- Counted by id first and named after: a few thousand names to look up, not one per match.
    -- In each grouping set the other columns are NULL, so the joins below pick their own set.
    SELECT speaker_id, kind, meeting_id, language, GROUPING(kind) = 0 AS by_kind,
           GROUPING(language) = 0 AS by_language, count(*) AS n
    FROM matches
    GROUP BY GROUPING SETS ((speaker_id), (kind), (meeting_id), (language))
),
facets AS (
    SELECT 'speaker' AS facet, {public_name} AS value, sum(n) AS n
    FROM counts JOIN speakers AS sp ON sp.id = counts.speaker_id JOIN people AS p ON p.id = sp.person_id
    GROUP BY 2
    UNION ALL
    SELECT 'kind', kind, n FROM counts WHERE by_kind
    UNION ALL
    SELECT 'language', language, n FROM counts WHERE by_language
    UNION ALL
    SELECT 'meeting', m.slug, n FROM counts JOIN meetings AS m ON m.id = counts.meeting_id
    UNION ALL
    SELECT 'year', extract(year FROM m.date)::int::text, sum(n)
    FROM counts JOIN meetings AS m ON m.id = counts.meeting_id GROUP BY 2
)
SELECT (SELECT count(*) FROM found) AS found,
       (SELECT coalesce(json_agg(hit ORDER BY {order}), '[]'::json) FROM hits) AS hits,
       (SELECT coalesce(json_agg(json_build_array(facet, value, n)), '[]'::json) FROM facets) AS facets
"""
BY_RELEVANCE = "rank DESC, meeting_date DESC, start, id"
BY_DATE = "meeting_date DESC, start, id"
HEADLINE = (
    f"ts_headline({SEGMENT_CONFIG}, testimony_search_text(coalesce(s.public_text, s.text)), {{tsquery}},"
    f" CASE WHEN length(coalesce(s.public_text, s.text)) <= {SNIPPET_CHARACTERS} THEN :whole ELSE :fragments END)"
)
# The name public surfaces give a person, as Person.public_name: an anonymous person's role, never their name.
# A voice whose name is withheld in its meeting (archive.privacy) is "Public commenter N", N counting the
# meeting's name-withheld voices by first appearance (as archive.privacy.view numbers them).
FIRST = "coalesce((SELECT min(x.start) FROM segments AS x WHERE x.speaker_id = {v}.id), 1e12)"
PSEUDONYM = (
    "'Public commenter ' || (SELECT count(*) FROM speakers AS o"
    " WHERE o.meeting_id = sp.meeting_id AND o.consent = 'name-withheld'"
    f" AND ({FIRST.format(v='o')}, o.label) <= ({FIRST.format(v='sp')}, sp.label))"
)
NAMELESS = "sp.consent = 'name-withheld'"
PUBLIC_NAME = (
    f"CASE WHEN {NAMELESS} THEN {PSEUDONYM}"
    " WHEN p.consent = 'anonymous' THEN coalesce(p.role, 'Unnamed speaker') ELSE p.name END"
)
PUBLIC_ROLE = f"CASE WHEN {NAMELESS} THEN NULL ELSE p.role END"
PUBLIC_PERSON = f"CASE WHEN {NAMELESS} THEN NULL ELSE p.id END"
# Segments published at all: public_text (archive.privacy) is "" for a voice that asked to be unpublished.
PUBLISHED = "(s.public_text IS NULL OR s.public_text <> '')"
# Joined into the matches only when a condition needs them (speaker:, role:, body:, the speaker filter).
# The speaker searched is the person the voice is attributed to.
JOINS = {
    "sp": "\n    LEFT JOIN speakers AS sp ON sp.id = s.speaker_id\n    LEFT JOIN people AS p ON p.id = sp.person_id",
    "b": "\n    JOIN bodies AS b ON b.id = m.body_id",
}
# The phrase redactions in force (archive.privacy.view.in_force): a meeting's title is published without them.
WITHHELD_PHRASES = (
    "SELECT r.meeting_id, r.phrase FROM redactions AS r WHERE r.scope = 'phrase' AND r.phrase IS NOT NULL"
    " AND r.id NOT IN (SELECT lifts_id FROM redactions WHERE lifts_id IS NOT NULL)"
)
NAME_COLUMNS = {"speaker": ("sp", f"({PUBLIC_NAME})"), "role": ("sp", f"({PUBLIC_ROLE})"), "body": ("b", "b.name")}


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
        if config != TEXT_CONFIG:
            return f"to_tsquery('{config}', {self.bind(tsquery_text(node))})"
        # Words of the transcript: as English or as Spanish, so each segment meets its own stems. A Spanish
        # segment's lexemes carry weight B, the others' A (migration 0012), and each half of the query asks for its
        # own weight: Spanish stems never match English text ("polici", Spanish for "policía", is English "policy").
        english = self.bind(tsquery_text(node, ENGLISH_WEIGHT))
        spanish = self.bind(tsquery_text(node, SPANISH_WEIGHT))
        return f"(to_tsquery('{TEXT_CONFIG}', {english}) || to_tsquery('{SPANISH_CONFIG}', {spanish}))"

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
            # A title is searched as published: a match on a phrase withheld in the meeting is no match. Its
            # words carry no language weight (a segment's do, migration 0012): an unweighted query meets them.
            query = f"to_tsquery('{TEXT_CONFIG}', {self.bind(tsquery_text(words))})"
            return (
                f"(to_tsvector('{TEXT_CONFIG}', testimony_search_text(m.title)) @@ {query}"
                f" AND NOT EXISTS ({WITHHELD_PHRASES} AND r.meeting_id = m.id"
                f" AND to_tsvector('{TEXT_CONFIG}', testimony_search_text(r.phrase)) @@ {query}))"
            )
        if node.name == "kind":  # NULL-safe, so -kind:remark keeps the segments nobody gave a kind
            return f"coalesce(s.kind = {self.bind(node.value.lower())}, false)"
        if node.name == "meeting":
            return f"m.slug = {self.bind(node.value)}"
        if node.name == "language":  # NULL-safe, as kind
            return f"coalesce(s.language = {self.bind(node.value.lower())}, false)"
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
            conditions.append(f"({PUBLIC_NAME}) = {self.bind(request.speaker)}")
        if request.kind:
            conditions.append(f"s.kind = {self.bind(request.kind)}")
        if request.meeting:
            conditions.append(f"m.slug = {self.bind(request.meeting)}")
        if request.body:
            self.joins.add("b")
            conditions.append(f"b.slug = {self.bind(request.body)}")
        if request.language:
            conditions.append(f"s.language = {self.bind(request.language)}")
        if request.date_from or request.date_to:
            conditions.append(self.dates(request.date_from, request.date_to))
        return conditions


def search_sql(statement: Statement, tree: Node | None, request: SearchRequest) -> str:
    """The one statement of a search; `statement` collects its parameters."""
    where = [PUBLISHED] + ([statement.condition(tree)] if tree is not None else []) + statement.request_filters(request)
    wanted = wanted_words(tree)
    wanted_tsquery = statement.tsquery(wanted) if wanted is not None else None
    ranked = wanted_tsquery is not None and request.sort != "date"
    return SEARCH_SQL.format(
        vector=", s.search_vector AS vector" if ranked else "",
        rank=f"ts_rank_cd({RANK_WEIGHTS}, vector, {wanted_tsquery})" if ranked else "0",
        joins="".join(join for table, join in JOINS.items() if table in statement.joins),
        where=" AND ".join(where),
        headline=HEADLINE.format(tsquery=wanted_tsquery) if wanted_tsquery is not None else "NULL",
        order=BY_RELEVANCE if ranked else BY_DATE,
        public_name=PUBLIC_NAME,
        public_role=PUBLIC_ROLE,
        public_person=PUBLIC_PERSON,
    )


# The index's vocabulary for "Did you mean …": each published word as written (accents folded), with the number of
# segments that say it. A scan of every segment: run only for a search that found nothing, and kept per content
# version (archive.db.version), which every write of content moves on.
VOCABULARY_SQL = (
    f"SELECT word, ndoc FROM ts_stat($$SELECT to_tsvector('{NAME_CONFIG}', testimony_search_text("
    "coalesce(s.public_text, s.text))) FROM segments AS s WHERE (s.public_text IS NULL OR s.public_text <> '')$$)"
)
VERSION_SQL = "SELECT number FROM content_version WHERE id = 1"


# --- the backend -----------------------------------------------------------------------------------------


class PostgresBackend:
    name = "postgres"

    def __init__(self, url: str, window: int) -> None:
        # How many matches a search ranks and counts, newest first (Settings.search_window). Ranking, counting
        # and the facets cost about 10 µs a match, so a word found in half of a million segments took seconds;
        # past the window the total is a lower bound and the page says so, as Elasticsearch's track_total_hits.
        self.window = window
        # One engine per backend object: the web process keeps one backend, so one pool.
        self.engine = make_engine(url)
        # No JIT for these connections. The facets' pseudonym subqueries (rarely run) inflate the planner's cost
        # estimate past jit_above_cost, and compiling the statement took ~1 s where running it takes milliseconds
        # (EXPLAIN ANALYZE at 100k segments: JIT 962 ms of 1,001).
        event.listen(self.engine, "connect", _without_jit)
        # The CLI and ingest open a backend per command and never close it: its pooled connections are
        # closed when it is collected, rather than left for the garbage collector to find still open.
        self._dispose = weakref.finalize(self, self.engine.dispose)
        self._vocabulary: tuple[object, dict[str, int]] | None = None

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

    def compact(self) -> None:
        """Nothing to compact: a segment's vector is computed from its public_text when that is written."""

    def warm(self) -> None:
        """Nothing to read ahead: PostgreSQL keeps its own caches."""

    def version(self) -> object:
        """The index is the database's own column: the content version (archive.db.version) covers it."""
        return None

    def document_ids(self) -> set[int]:
        """The segments search can find (for `testimony check`)."""
        with self.engine.connect() as connection:
            return set(
                connection.scalars(
                    text("SELECT id FROM segments AS s WHERE search_vector IS NOT NULL AND " + PUBLISHED)
                )
            )

    def _count(self, sql: str, **params: object) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(text(sql), params) or 0)

    # --- reading -----------------------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchPage:
        parsed = parse_query(request.q)
        filters = (request.speaker, request.kind, request.meeting, request.body)
        if parsed.tree is None and not any(filters) and not (request.date_from or request.date_to):
            return _empty_page(request, parsed.message)
        if any("\x00" in value for value in filters if value):  # PostgreSQL text cannot hold NUL: no match
            return _empty_page(request, parsed.message or NO_MATCH)
        statement = Statement()
        sql = search_sql(statement, parsed.tree, request)
        params = {
            **statement.params,
            "window": self.window,
            "limit": max(request.per_page, 0),
            "offset": max(request.page - 1, 0) * max(request.per_page, 0),
            "whole": WHOLE,
            "fragments": FRAGMENTS,
        }
        with self.engine.connect() as connection:
            row = connection.execute(text(sql), params).one()
        exact = row.found <= self.window
        message = parsed.message
        if row.found == 0 and message is None:
            message = NO_MATCH
        if not exact:
            message = sentences([message, broad_message(self.window, request.sort)])
        hits = [_hit(hit) for hit in row.hits]
        if hits:
            hits = self._published_titles(hits)
        total = min(int(row.found), self.window)
        corrected = did_you_mean(request.q, self.vocabulary()) if total == 0 and parsed.tree is not None else None
        return SearchPage(
            request.q,
            total,
            request.page,
            request.per_page,
            hits,
            _facets(row.facets),
            message,
            total_exact=exact,
            suggestion=corrected,
        )

    def _published_titles(self, hits: list[SearchHit]) -> list[SearchHit]:
        """The hits with their meetings' titles as published: a phrase withheld in a meeting, withheld in its title
        (archive.privacy.view); one small query, on the meetings of the page only."""
        ids = sorted({hit.meeting_slug for hit in hits})
        sql = text(
            f"SELECT m.slug, w.phrase FROM ({WITHHELD_PHRASES}) AS w JOIN meetings AS m ON m.id = w.meeting_id"
            " WHERE m.slug IN :slugs"
        ).bindparams(bindparam("slugs", expanding=True))
        with self.engine.connect() as connection:
            rows = connection.execute(sql, {"slugs": ids})
            phrases: dict[str, list[str]] = {}
            for slug, phrase in rows.all():
                phrases.setdefault(slug, []).append(phrase)
        if not phrases:
            return hits
        return [
            dataclasses.replace(hit, meeting_title=redact_phrases(hit.meeting_title, phrases[hit.meeting_slug]))
            if hit.meeting_slug in phrases
            else hit
            for hit in hits
        ]

    def vocabulary(self) -> dict[str, int]:
        """word → published segments that say it, read again when the content version has moved."""
        with self.engine.connect() as connection:
            version = connection.scalar(text(VERSION_SQL))
            known = self._vocabulary
            if known is not None and known[0] == version:
                return known[1]
            words = {word: int(count) for word, count in connection.execute(text(VOCABULARY_SQL)).all()}
        self._vocabulary = (version, words)
        return words


def broad_message(window: int, sort: str) -> Text:
    """What a page past the window says: which matches it shows, and how to see them all."""
    if sort == "date":
        return Text(
            "More than %(window)s segments match: these are the newest %(window)s, and the counts beside them are"
            " theirs. Add a word or a filter to search all of them.",
            window=window,
        )
    return Text(
        "More than %(window)s segments match: these are the most relevant of the newest %(window)s, and the counts"
        " beside them are theirs. Add a word or a filter to search all of them.",
        window=window,
    )


def _without_jit(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_connection.commit()


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
        speaker_label=row["speaker_label"],
        language=row.get("language"),
    )


def highlight(headline: str | None, text: str) -> str:
    """ts_headline's text, HTML-escaped, with its match markers made <mark>; the escaped text without one."""
    if not headline:
        return str(escape(text))
    return str(escape(headline.translate(ANGLES_BACK))).replace(START, "<mark>").replace(STOP, "</mark>")


def _facets(rows: list[list[Any]]) -> dict[str, list[FacetCount]]:
    facets: dict[str, list[FacetCount]] = {"speaker": [], "kind": [], "meeting": [], "year": [], "language": []}
    for name, value, count in rows:
        if value not in (None, ""):  # unnamed speakers, segments without a kind
            facets[name].append(FacetCount(str(value), int(count)))
    # Sorted here rather than in SQL: Python's order of strings does not depend on the database's collation.
    return {name: sorted(counts, key=lambda f: (-f.count, f.value)) for name, counts in facets.items()}
