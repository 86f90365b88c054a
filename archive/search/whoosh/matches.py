"""Every match of a Whoosh query with Whoosh's own BM25F score, computed with numpy.

Why: Whoosh walks matches one posting at a time in Python. At 100k segments a word found in half of them
cost 120 ms to score and as much again to count them and their facets. Here each posting block is read
as an array and scored with numpy (the same formula, parameters, idf, average and quantised field lengths
as Whoosh's BM25F), so ranking, the total, facets and date order all come from one pass.

Numpy evaluates Term, And (with Not), Or, AndNot, Require, AndMaybe and every date filter (dates are
a column only, not indexed). Any other part of a query (a phrase, a prefix, a range typed on another field)
is walked with Whoosh's own matcher for that part only, so its matches and scores are Whoosh's by
construction. tests/search/test_matches.py checks that the documents and scores equal Whoosh's on a corpus
of queries.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh import query as q
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import BM25F
from whoosh.util.times import datetime_to_long

# Whoosh's defaults, which the backend uses (Searcher(weighting=BM25F())).
B = BM25F().B
K1 = BM25F().K1


@dataclass(frozen=True)
class Matches:
    """Matches in one segment: sorted, unique segment-local document numbers and their scores."""

    docs: np.ndarray  # int64
    scores: np.ndarray  # float64, one per doc


EMPTY = Matches(np.zeros(0, np.int64), np.zeros(0))


class SegmentColumns:
    """One Whoosh segment's per-document values as arrays, read once (a segment never changes but for
    deletions, which are read per search)."""

    def __init__(self, reader: Any, facet_fields: dict[str, str]) -> None:
        count = reader.doc_count_all()
        self.text_lengths = np.array([reader.doc_field_length(n, "text", 1) for n in range(count)], np.float64)
        # Dates as Whoosh's longs (microseconds), the form DateRange bounds take; times in milliseconds.
        self.date = _numbers(reader, "date", count, datetime_to_long)
        self.start_ms = _numbers(reader, "start_ms", count, int)
        self.ordinals: dict[str, tuple[np.ndarray, list[str]]] = {}
        for name, field in facet_fields.items():
            if not reader.has_column(field):  # an index written before the field was a column (language): no value
                values = np.full(count, "", dtype=object)
            else:
                column = reader.column_reader(field)
                values = np.array([_column_value(column, n) for n in range(count)], dtype=object)
            uniques, ordinals = np.unique(values, return_inverse=True)
            self.ordinals[name] = (ordinals.astype(np.int64), [str(v) for v in uniques])


class FacetSpace:
    """Each facet's values over a set of segments, in one sorted list, and each segment's documents' places in it:
    counting a search's facets is then one bincount per facet and segment, whatever the number of segments."""

    def __init__(self, columns: dict[str, SegmentColumns]) -> None:  # by segment id
        names = next(iter(columns.values())).ordinals if columns else {}
        # Each facet's values, sorted, as an array of str objects: a search's counts pick theirs in one step.
        self.values: dict[str, np.ndarray] = {}
        self.ordinals: dict[str, dict[str, np.ndarray]] = {key: {} for key in columns}  # segment id → facet → places
        for name in names:
            values = sorted(set().union(*(column.ordinals[name][1] for column in columns.values())))
            place = {value: n for n, value in enumerate(values)}
            self.values[name] = np.array(values, dtype=object)
            for key, column in columns.items():
                local, local_values = column.ordinals[name]
                self.ordinals[key][name] = np.array([place[v] for v in local_values], np.int64)[local]


@dataclass(frozen=True)
class Segment:
    top: Any  # Whoosh's searcher over the whole index: idf and average lengths are global statistics
    searcher: Any  # this segment's own searcher (Whoosh has no types)
    offset: int  # its first document's number in the whole index
    columns: SegmentColumns
    cache: SegmentCache
    facets: dict[str, np.ndarray]  # each document's place in the FacetSpace's values, per facet
    facet_values: dict[str, np.ndarray]  # the FacetSpace's values (str objects), per facet


class SegmentCache:
    """Per segment, shared by a process's threads: its columns, and the postings of recently searched terms.

    Keyed by segment id, so nothing is ever stale: a segment's files never change (deletions are read per
    search). Columns of segments no longer live are dropped; postings are kept up to POSTINGS_BUDGET bytes,
    least recently used first out (a word people search for often is read from disk once).
    """

    def __init__(self, facet_fields: dict[str, str], postings_budget: int | None = None) -> None:
        self._facet_fields = facet_fields
        self._postings_budget = POSTINGS_BUDGET if postings_budget is None else postings_budget
        self._lock = threading.Lock()
        self._columns: dict[str, SegmentColumns] = {}
        self._postings: OrderedDict[tuple[str, str, bytes], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._postings_bytes = 0
        self._space: tuple[tuple[str, ...], FacetSpace] | None = None  # for the live segments, in order

    def postings(self, reader: Any, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        key = (reader.segment().segment_id(), fieldname, btext)
        with self._lock:
            found = self._postings.get(key)
            if found is not None:
                self._postings.move_to_end(key)
                return found
        found = _read_postings(reader, fieldname, btext)
        with self._lock:
            if key not in self._postings:
                self._postings[key] = found
                self._postings_bytes += found[0].nbytes + found[1].nbytes
            while self._postings_bytes > self._postings_budget:
                _, (docs, weights) = self._postings.popitem(last=False)
                self._postings_bytes -= docs.nbytes + weights.nbytes
        return found

    def segments(self, searcher: Any) -> list[Segment]:
        """Each segment the searcher reads, with its columns and where its document numbers start."""
        leaves = [(searcher, 0)] if searcher.is_atomic() else searcher.leaf_searchers()
        # An index with no documents reads through an empty reader that has no segment.
        leaves = [(leaf, offset) for leaf, offset in leaves if leaf.reader().segment() is not None]
        with self._lock:
            live = {}
            for leaf, _ in leaves:
                key = leaf.reader().segment().segment_id()
                live[key] = self._columns.get(key) or SegmentColumns(leaf.reader(), self._facet_fields)
            # When a segment appears, drop those this searcher no longer reads (merged or replaced).
            if set(live) - set(self._columns):
                self._columns = {**{k: v for k, v in self._columns.items() if k in live}, **live}
            if self._space is None or self._space[0] != tuple(live):
                self._space = (tuple(live), FacetSpace(live))
            space = self._space[1]
        found = []
        for leaf, offset in leaves:
            key = leaf.reader().segment().segment_id()
            found.append(Segment(searcher, leaf, offset, live[key], self, space.ordinals[key], space.values))
        return found


# Postings kept in memory, 16 bytes each: every posting of the text of the benchmark's 100k-segment archive
# (2.05 million, 31 MiB) fits twice over.
POSTINGS_BUDGET = 64 * 1024 * 1024


def evaluate(node: q.Query, leaf: Segment) -> Matches:
    """The matches of `node` in one segment, scored with statistics of the whole index."""
    matches = _evaluate(node, leaf)
    reader = leaf.searcher.reader()
    deleted = reader.deleted_docs_set if reader.has_deletions() else None
    if deleted:
        keep = ~np.isin(matches.docs, np.fromiter(deleted, np.int64, len(deleted)))
        matches = Matches(matches.docs[keep], matches.scores[keep])
    return matches


def _evaluate(node: q.Query, leaf: Segment) -> Matches:
    if getattr(node, "fieldname", None) == "date":  # dates are a column, never postings (whoosh.py: DateColumn)
        return _date(node, leaf)
    kind = type(node)
    if kind is q.Term:
        return _boosted(_term(node, leaf), node.boost)
    if kind is q.And:
        positives = [s for s in node.subqueries if not isinstance(s, q.Not)]
        negatives = [s.query for s in node.subqueries if isinstance(s, q.Not)]
        if not positives:
            return _walk(node, leaf)
        result = _evaluate(positives[0], leaf)
        for sub in positives[1:]:
            result = _intersect(result, _evaluate(sub, leaf))
        for sub in negatives:
            # Whoosh intersects with an inverse matcher, which scores every document it passes as 1.
            result = _exclude(result, _evaluate(sub, leaf))
            result = Matches(result.docs, result.scores + 1.0)
        return _boosted(result, node.boost)
    if kind is q.Or and not node.scale and not node.minmatch:
        result = EMPTY
        for sub in node.subqueries:
            result = _union(result, _evaluate(sub, leaf))
        return _boosted(result, node.boost)
    if kind is q.AndNot:
        return _exclude(_evaluate(node.a, leaf), _evaluate(node.b, leaf))
    if kind is q.Require:
        required = _evaluate(node.b, leaf)
        return _exclude(_evaluate(node.a, leaf), required, keep=True)
    if kind is q.AndMaybe:
        scored = _evaluate(node.a, leaf)
        return _union(scored, _exclude(_evaluate(node.b, leaf), scored, keep=True))
    return _walk(node, leaf)


def _term(node: q.Term, leaf: Segment) -> Matches:
    top, reader = leaf.top, leaf.searcher.reader()
    if node.fieldname not in top.schema:
        return EMPTY
    field = top.schema[node.fieldname]
    if field.scorable and node.fieldname != "text":  # no other field is scorable in SCHEMA; Whoosh knows how
        return _walk(node, leaf)
    try:
        btext = field.to_bytes(node.text)
    except ValueError:
        return EMPTY
    if (node.fieldname, btext) not in reader:
        return EMPTY
    docs, weights = leaf.cache.postings(reader, node.fieldname, btext)
    if not field.scorable:  # Whoosh scores a term of a field without lengths (speaker, kind…) by its weight
        return Matches(docs, weights)
    idf = top.idf(node.fieldname, btext)
    average = top.avg_field_length(node.fieldname) or 1
    lengths = leaf.columns.text_lengths[docs]
    scores = idf * ((weights * (K1 + 1)) / (weights + K1 * ((1 - B) + B * lengths / average)))
    return Matches(docs, scores)


def _read_postings(reader: Any, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """A term's document numbers and weights, a block at a time (deleted documents are removed later)."""
    matcher = reader.postings(fieldname, btext)
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    if isinstance(matcher, W3LeafMatcher) and not matcher._byteids:
        # Whoosh's block format (whoosh-reloaded 2.7.5, pinned): (delta-coded ids, weights, values).
        while matcher.is_active():
            if matcher._data is None:
                matcher._read_data()
            raw_ids, raw_weights = matcher._data[0], matcher._data[1]
            block = np.cumsum(np.array(raw_ids, dtype=np.int64))
            ids.append(block)
            if raw_weights is None:
                weights.append(np.ones(len(block)))
            elif isinstance(raw_weights, float):
                weights.append(np.full(len(block), raw_weights))
            else:  # Whoosh keeps weights as 32-bit floats in its arrays
                weights.append(np.array(raw_weights, dtype=np.float32).astype(np.float64))
            matcher._next_block()
    else:  # any other posting format: the same values, a posting at a time
        found_ids, found_weights = [], []
        while matcher.is_active():
            found_ids.append(matcher.id())
            found_weights.append(matcher.weight())
            matcher.next()
        ids.append(np.array(found_ids, dtype=np.int64))
        weights.append(np.array(found_weights, dtype=np.float32).astype(np.float64))
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(ids), np.concatenate(weights)


def _walk(node: q.Query, leaf: Segment) -> Matches:
    """Whoosh's own matcher for a part numpy does not evaluate (phrases, prefixes, typed ranges)."""
    matcher = node.matcher(leaf.searcher)
    docs, scores = [], []
    while matcher.is_active():
        docs.append(matcher.id())
        scores.append(matcher.score())
        matcher.next()
    return Matches(np.array(docs, dtype=np.int64), np.array(scores, dtype=np.float64))


def _date(node: q.Query, leaf: Segment) -> Matches:
    """A date filter over the cached column.

    The parser makes a DateRange (date:2024), a NumericRange of Whoosh's longs (date:2024-03-05) or, for one
    exact moment (date:now), a Term; Whoosh scores a range with its boost and a term of an unscored field 1.
    """
    dates = leaf.columns.date
    if isinstance(node, q.NumericRange):  # DateRange included: both keep their bounds as Whoosh's longs
        mask = np.ones(len(dates), bool)
        if node.start is not None:
            mask &= dates > node.start if node.startexcl else dates >= node.start
        if node.end is not None:
            mask &= dates < node.end if node.endexcl else dates <= node.end
        score = float(node.boost)
    elif isinstance(node, q.Term):
        moment = node.text if isinstance(node.text, dt.datetime) else leaf.top.schema["date"].from_bytes(node.text)
        mask = dates == datetime_to_long(moment)
        score = float(node.boost)
    else:  # no other query the parser makes names the date field
        return EMPTY
    docs = np.flatnonzero(mask).astype(np.int64)
    return Matches(docs, np.full(len(docs), score))


def _boosted(matches: Matches, boost: float) -> Matches:
    return matches if boost == 1.0 else Matches(matches.docs, matches.scores * boost)


def _intersect(a: Matches, b: Matches) -> Matches:
    docs, in_a, in_b = np.intersect1d(a.docs, b.docs, assume_unique=True, return_indices=True)
    return Matches(docs, a.scores[in_a] + b.scores[in_b])


def _exclude(a: Matches, b: Matches, *, keep: bool = False) -> Matches:
    """a without b's documents, or with only b's when keep; a's scores either way."""
    mask = np.isin(a.docs, b.docs, assume_unique=True)
    mask = mask if keep else ~mask
    return Matches(a.docs[mask], a.scores[mask])


def _union(a: Matches, b: Matches) -> Matches:
    # Most unions have an empty side (a word's Spanish field, in an English archive): nothing to merge.
    if not len(b.docs):
        return a
    if not len(a.docs):
        return b
    docs = np.union1d(a.docs, b.docs)
    scores = np.zeros(len(docs))
    scores[np.searchsorted(docs, a.docs)] += a.scores
    scores[np.searchsorted(docs, b.docs)] += b.scores
    return Matches(docs, scores)


def _numbers(reader: Any, field: str, count: int, convert: Callable[[Any], float]) -> np.ndarray:
    column = reader.column_reader(field)
    values = (_column_value(column, n, None) for n in range(count))
    return np.fromiter((0 if v is None else convert(v) for v in values), np.int64, count)


def _column_value(column: Any, docnum: int, default: object = "") -> object:
    # A segment whose documents never set the field has a short column; those documents have no value.
    try:
        return column[docnum] or default
    except IndexError:
        return default
