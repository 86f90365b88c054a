"""archive/search/matches.py finds exactly Whoosh's matches with Whoosh's scores.

The index has three segments and deletions (a meeting indexed again), as a live archive's index does.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest
from whoosh import query as q
from whoosh.util.times import datetime_to_long

from archive.search import SearchRequest
from archive.search.documents import SegmentDocument
from archive.search.whoosh.backend import FACETS, SCHEMA, WhooshBackend, _filters
from archive.search.whoosh.matches import evaluate
from archive.search.whoosh.query import parse_user_query

WORDS = [f"w{n}" for n in range(40)]
SPEAKERS = ["Alice Ames", "Bruno Bell", "Chen Cho"]
KINDS = ["testimony", "remark", "procedural"]

QUERIES = [
    "w0",
    "w1 w2",
    "w0 OR w5",
    "w0 -w1",
    "w3 NOT w4",
    "w0 AND NOT w1",
    '"w0 w1"',
    '"w2 w0" w3',
    "w1*",
    "w0 w3*",
    "speaker:alice w0",
    "speaker:bruno",
    "kind:remark w2",
    "w2^3 w0",
    "w0 OR (w1 w2)",
    "(w0 OR w1) -w2",
    "w5 ANDMAYBE w6",
    "date:2021",
    "w0 date:[2020-01 to 2021-06]",
    "w1 date:2020-03-01",  # a day: the parser makes a NumericRange, not a DateRange
    "meeting:m-2 w1",
    "title:meeting w7",
    "w39",
    "nothing-like-this",
]
FILTERED = [
    SearchRequest(q="w0", speaker="Bruno Bell"),
    SearchRequest(q="w1 w2", kind="remark", date_from=dt.date(2021, 1, 1)),
    SearchRequest(q='"w0 w1"', date_to=dt.date(2020, 12, 31)),
    SearchRequest(q="w3*", meeting="m-3"),
]


def documents(slug: str, date: dt.date, first_id: int, count: int, seed: int) -> list[SegmentDocument]:
    rng = random.Random(seed)
    weights = [1 / (n + 1) for n in range(len(WORDS))]  # a few words are everywhere, most are rare
    found = []
    for n in range(count):
        words = rng.choices(WORDS, weights=weights, k=rng.randint(3, 25))
        found.append(
            SegmentDocument(
                segment_id=first_id + n,
                meeting_slug=slug,
                meeting_title=f"Meeting {slug}",
                meeting_date=date,
                body="Council",
                speaker_id=n % 3 + 1,
                speaker_name=SPEAKERS[n % 3],
                speaker_role="member",
                kind=KINDS[n % 3],
                tags=(),
                language="en",
                start=n * 5.0,
                end=n * 5.0 + 4.0,
                text=" ".join(words),
            )
        )
    return found


MEETING_DATES = {"m-1": dt.date(2020, 3, 1), "m-2": dt.date(2021, 5, 1), "m-3": dt.date(2022, 7, 1)}


@pytest.fixture(scope="module")
def backend(tmp_path_factory):  # type: ignore[no-untyped-def]
    backend = WhooshBackend(tmp_path_factory.mktemp("index"))
    backend.index_documents("m-1", documents("m-1", MEETING_DATES["m-1"], 1, 400, seed=1))
    backend.index_documents("m-2", documents("m-2", MEETING_DATES["m-2"], 1001, 300, seed=2))
    backend.index_documents("m-3", documents("m-3", MEETING_DATES["m-3"], 2001, 300, seed=3))
    backend.index_documents("m-1", documents("m-1", MEETING_DATES["m-1"], 1, 350, seed=4))  # deletions
    with backend.searcher() as searcher:
        assert not searcher.is_atomic() and searcher.reader().has_deletions()  # what this file is about
    return backend


def dates_as_meetings(node: q.Query) -> q.Query:
    """Dates are a column Whoosh's matchers cannot read, so its answer to a date filter is taken as the same
    filter on the meetings held on those dates, scored as Whoosh scores a date range (its boost)."""
    if getattr(node, "fieldname", None) != "date":
        return node
    days = {slug: datetime_to_long(dt.datetime.combine(day, dt.time())) for slug, day in MEETING_DATES.items()}
    if isinstance(node, q.NumericRange):
        held = [
            slug
            for slug, day in days.items()
            if (node.start is None or day >= node.start) and (node.end is None or day <= node.end)
        ]
    else:
        held = [slug for slug, day in days.items() if day == datetime_to_long(SCHEMA["date"].from_bytes(node.text))]
    return q.ConstantScoreQuery(q.Or([q.Term("meeting", slug) for slug in held]), node.boost)


def whoosh_matches(searcher, query: q.Query) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Whoosh's own answer: every match of its matchers, and their scores, segment by segment."""
    query = query.accept(dates_as_meetings)
    docs, scores = [], []
    for leaf, offset in searcher.leaf_searchers():
        matcher = query.matcher(leaf)
        while matcher.is_active():
            docs.append(offset + matcher.id())
            scores.append(matcher.score())
            matcher.next()
    return np.array(docs, dtype=np.int64), np.array(scores)


def our_matches(backend, searcher, query: q.Query) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    docs, scores = [], []
    for segment in backend._segments.segments(searcher):
        found = evaluate(query, segment)
        docs.append(found.docs + segment.offset)
        scores.append(found.scores)
    return np.concatenate(docs), np.concatenate(scores)


def queries() -> list[q.Query]:
    parsed = [parse_user_query(text, SCHEMA).query for text in QUERIES]
    filtered = [q.Require(parse_user_query(r.q, SCHEMA).query, q.And(_filters(r))) for r in FILTERED]
    moment = q.Term("date", SCHEMA["date"].to_bytes(dt.datetime(2021, 5, 1)))  # what date:now makes, for a past day
    return [query for query in parsed + filtered if query is not None] + [q.And([q.Term("text", "w2"), moment])]


@pytest.mark.parametrize("query", queries(), ids=str)
def test_the_same_documents_and_scores_as_whoosh(backend, query) -> None:  # type: ignore[no-untyped-def]
    with backend.searcher() as searcher:
        expected_docs, expected_scores = whoosh_matches(searcher, query)
        docs, scores = our_matches(backend, searcher, query)
    order = np.argsort(expected_docs)
    assert docs.tolist() == expected_docs[order].tolist()
    np.testing.assert_allclose(scores, expected_scores[order], rtol=1e-6)


def test_most_queries_find_something(backend) -> None:  # type: ignore[no-untyped-def]
    """The comparison above means little if everything is empty."""
    with backend.searcher() as searcher:
        found = [len(whoosh_matches(searcher, query)[0]) for query in queries()]
    assert sum(1 for n in found if n > 0) >= len(found) - 1
    assert max(found) > 500


@pytest.mark.parametrize("text", ["w0", "w1 w2", "w0 OR w5", '"w0 w1"', "w2^3 w0"])
def test_a_page_is_ranked_as_whoosh_ranks_it(backend, text) -> None:  # type: ignore[no-untyped-def]
    query = parse_user_query(text, SCHEMA).query
    with backend.searcher() as searcher:
        expected = [int(hit["segment_id"]) for hit in searcher.search(query, limit=20)]
    page = backend.search(SearchRequest(q=text))
    assert [hit.segment_id for hit in page.hits] == expected


def test_totals_and_facets_count_every_match(backend) -> None:  # type: ignore[no-untyped-def]
    query = parse_user_query("w0", SCHEMA).query
    with backend.searcher() as searcher:
        expected = [searcher.stored_fields(int(n)) for n in whoosh_matches(searcher, query)[0]]
    page = backend.search(SearchRequest(q="w0"))
    assert page.total == len(expected)
    for name, field in (("speaker", "speaker_name"), ("kind", "kind"), ("meeting", "meeting")):
        counted = {facet.value: facet.count for facet in page.facets[name]}
        assert counted == {v: sum(1 for f in expected if f[field] == v) for v in {f[field] for f in expected}}


def test_date_order_is_newest_meeting_first_then_time(backend) -> None:  # type: ignore[no-untyped-def]
    page = backend.search(SearchRequest(q="w1", sort="date", per_page=400))
    keys = [(-hit.meeting_date.toordinal(), hit.start) for hit in page.hits]
    assert keys == sorted(keys) and page.hits[0].meeting_slug == "m-3"


def test_warm_reads_every_segments_columns_ahead(backend) -> None:  # type: ignore[no-untyped-def]
    backend._segments._columns.clear()
    backend.warm()
    with backend.searcher() as searcher:
        live = {leaf.reader().segment().segment_id() for leaf, _ in searcher.leaf_searchers()}
    assert set(backend._segments._columns) == live


def test_an_empty_index_warms_and_has_no_version(tmp_path) -> None:  # type: ignore[no-untyped-def]
    backend = WhooshBackend(tmp_path / "index")
    backend.warm()
    assert backend.version() is None


def test_the_postings_cache_keeps_to_its_budget(backend) -> None:  # type: ignore[no-untyped-def]
    from archive.search.whoosh.matches import SegmentCache

    expected = [backend.search(SearchRequest(q=word)).total for word in WORDS[:10]]
    cache = SegmentCache(FACETS, postings_budget=4_000)
    backend._segments = cache
    try:
        assert [backend.search(SearchRequest(q=word)).total for word in WORDS[:10]] == expected
    finally:
        backend._segments = SegmentCache(FACETS)
    kept = sum(docs.nbytes + weights.nbytes for docs, weights in cache._postings.values())
    assert kept == cache._postings_bytes <= 4_000
