"""The Whoosh backend: an on-disk index under search_index/, swapped atomically on rebuild.

Layout: search_index/current is a symlink to the live generation-<n>/ folder. A rebuild writes a new
generation beside it and then replaces the symlink in one rename, so searches never see a half-built
index, and an interrupted rebuild leaves the old one serving. Every write (incremental or rebuild) holds
search_index/write.lock, so processes take turns instead of failing with Whoosh's LockError.

A rebuild writes its documents in batches, each batch one segment, in parallel build processes: Whoosh's
writer is pure Python, so a second process nearly doubles the build rate on two cores (benchmarks/search.py).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import itertools
import logging
import multiprocessing
import os
import shutil
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as q
from whoosh.codec.base import Segment as WhooshSegment
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3PerDocReader
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.highlight import ContextFragmenter, highlight
from whoosh.writing import SegmentWriter

from archive.errors import ArchiveError, IndexMissing, IndexUnavailable
from archive.locales import Text
from archive.search import FacetCount, SearchHit, SearchPage, SearchRequest
from archive.search.censored import searchable
from archive.search.documents import SegmentDocument

# FoldingTokenizer and FoldingStemmer lived here: indexes written before name them in their pickled schema.
from archive.search.whoosh.analysis import (  # noqa: F401
    NAME_ANALYZER,
    SPANISH_ANALYZER,
    TEXT_ANALYZER,
    FoldingStemmer,
    FoldingTokenizer,
    MarkFormatter,
    _folded_stem,
    marked_whole,
)
from archive.search.whoosh.matches import SegmentCache, evaluate
from archive.search.whoosh.query import parse_user_query
from archive.search.whoosh.vocabulary import suggestion

log = logging.getLogger(__name__)


class DateColumn(DATETIME):
    """A date the query parser reads (date:2024, date:[2023-01 to 2024-06]) and searches filter on as a column.

    Not indexed: every date filter is evaluated over the column (matches.py), so the eight terms per
    document Whoosh would write for range walks are never read; skipping them saves a tenth of the build.
    """

    indexed = False


_REMEMBERED: dict[tuple[int, str], tuple[object, list]] = {}


def _remembered_terms(field: Any, index: Any, value: str, options: dict[str, Any]) -> list[Any]:
    """What field.index(value) gives, worked out once per process for each field and value."""
    if options:  # the writer passes none; anything else is worked out afresh
        return list(index(value, **options))
    key = (id(field), value)
    found = _REMEMBERED.get(key)
    if found is None:
        if len(_REMEMBERED) > 100_000:
            _REMEMBERED.clear()
        found = _REMEMBERED[key] = (field, list(index(value)))  # the field is held: its id cannot be reused
    return found[1]


class RepeatedKeyword(KEYWORD):
    """A KEYWORD whose values repeat from segment to segment (a meeting's title and body, a speaker's name and
    role): each distinct value is analysed once per process, not once per segment (a tenth of the build)."""

    def index(self, value: Any, **options: Any) -> Any:
        return _remembered_terms(self, super().index, value, options)


class RepeatedID(ID):
    """An ID whose values repeat from segment to segment (the meeting, the speaker, the kind): as RepeatedKeyword."""

    def index(self, value: Any, **options: Any) -> Any:
        return _remembered_terms(self, super().index, value, options)


SCHEMA = Schema(
    segment_id=ID(stored=True, unique=True),
    text=TEXT(analyzer=TEXT_ANALYZER, stored=True, phrase=True),
    # Spanish segments' text again, analysed as Spanish (queries look in both fields: whoosh/query.py).
    text_es=TEXT(analyzer=SPANISH_ANALYZER, phrase=True),
    # Fields other than the text are matched, never scored: scorable fields cost Whoosh a field-length
    # lookup per posting when it writes (measured: a third of the build time).
    # The speaker is the person (their public name: an anonymous person's real name never reaches the index).
    speaker=RepeatedKeyword(analyzer=NAME_ANALYZER),  # for speaker:rosa in a query string
    speaker_name=RepeatedID(stored=True, sortable=True),  # the exact value, for facets and filters
    speaker_id=STORED,  # the person's id
    speaker_label=STORED,  # the voice in its meeting, for voices nobody has identified yet
    role=RepeatedKeyword(analyzer=NAME_ANALYZER, stored=True),
    kind=RepeatedID(stored=True, sortable=True),
    tags=KEYWORD(stored=True, commas=True, lowercase=True),
    meeting=RepeatedID(stored=True, sortable=True),
    meeting_title=RepeatedKeyword(analyzer=TEXT_ANALYZER, stored=True),
    body=RepeatedKeyword(analyzer=NAME_ANALYZER, stored=True),
    body_slug=RepeatedID(),  # the body filter
    date=DateColumn(stored=True, sortable=True),
    year=RepeatedID(sortable=True),
    # Times are shown and sorted by, never searched: NUMERIC would index 16 terms per value (measured: two
    # thirds of all postings, and of the build time).
    start=STORED,
    end=STORED,
    # Milliseconds, for "date order" within a meeting (whoosh-reloaded cannot sort a float column).
    start_ms=COLUMN(NumericColumn("q")),
    language=RepeatedID(stored=True, sortable=True),
)
FACETS = {"speaker": "speaker_name", "kind": "kind", "meeting": "meeting", "year": "year", "language": "language"}
SNIPPET_CHARACTERS = 400
LOCK_TIMEOUT = 120.0  # seconds a writer waits for another before giving up with a clear error
REBUILD_BATCH = 50_000  # documents per segment in a rebuild (fewer segments search faster)
WRITER_MEMORY_MB = 512  # postings a writer sorts in memory before spilling to temporary files (a batch fits)


def _cached_length_reader(self: Any, fieldname: str, column: Any) -> Any:
    """W3PerDocReader._cached_reader (whoosh-reloaded 2.7.5, pinned), remembering fields without lengths too,
    and holding lengths in memory.

    Whoosh reads a field's length for every posting it writes. For a field that keeps none (all but the text)
    the original looked for the length file again each time, an os.stat per posting: a seventh of the build.
    For the text it read the length from the file, a byte at a time; now the column is read once (a byte per
    document, as Whoosh's own Reader.load() gives it).
    """
    if fieldname not in self._readers:
        reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
        self._readers[fieldname] = reader.load() if reader is not None and column is LENGTHS_COLUMN else reader
    return self._readers[fieldname]


W3PerDocReader._cached_reader = _cached_length_reader


@dataclass(frozen=True)
class _Found:
    docs: np.ndarray  # the index's document numbers
    scores: np.ndarray
    date: np.ndarray
    start_ms: np.ndarray
    facets: dict[str, Sequence[FacetCount]]


NO_MATCH = Text("No testimony matches. Try fewer words, another spelling, or remove a filter.")  # said on the page


class WhooshBackend:
    name = "whoosh"

    def __init__(self, root: Path, *, processes: int = 1, batch_size: int = REBUILD_BATCH) -> None:
        self.root = Path(root)
        self.processes = processes  # build processes in a rebuild
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._opened: tuple[Path, whoosh_index.FileIndex] | None = None
        self._broken: Path | None = None  # a generation that could not be opened
        self._thread = threading.local()
        self._segments = SegmentCache(FACETS)

    # --- writing -----------------------------------------------------------------------------------

    def index_documents(self, slug: str, documents: Iterable[SegmentDocument]) -> int:
        """Replace one meeting's documents, in one commit."""
        with self._write_lock():
            ix = self._writable_index()
            missing = set(SCHEMA.names()) - set(ix.schema.names())
            if missing:  # an index written by an earlier version: its documents lack fields searches read
                raise ArchiveError(
                    f"the search index predates this version (no {', '.join(sorted(missing))}): run `testimony reindex`"
                )
            writer = ix.writer()
            try:
                writer.delete_by_term("meeting", slug)
                count = 0
                for document in documents:
                    writer.add_document(**_fields(document))
                    count += 1
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            return count

    def remove_meeting(self, slug: str) -> None:
        with self._write_lock():
            ix = self._writable_index()
            writer = ix.writer()
            writer.delete_by_term("meeting", slug)
            writer.commit()

    def compact(self) -> None:
        """Merge the live generation's segments into one and delete every other generation.

        Whoosh only marks a deleted document: its stored text and its terms stay in the segment files until a
        merge rewrites them. After a redaction the withheld words must leave the index's bytes, so this merges
        everything (the old segment files are removed) and drops the generation a rebuild kept for readers.
        """
        with self._write_lock():
            ix = self._writable_index()
            ix.writer().commit(optimize=True)
            live = self._current_target()
            for old in self.root.glob("generation-*"):
                if old != live:
                    shutil.rmtree(old, ignore_errors=True)

    def rebuild(self, documents: Iterable[SegmentDocument]) -> int:
        """Build a new generation from scratch and swap it in; the old one serves until then."""
        with self._write_lock():
            self.root.mkdir(parents=True, exist_ok=True)
            generation = self.root / f"generation-{time.time_ns()}"
            generation.mkdir()
            try:
                ix = whoosh_index.create_in(str(generation), SCHEMA)
                batches = _batches((_fields(document) for document in documents), self.batch_size)
                segments = self._write_segments(generation, batches)
                # The segments become the index in one step: a new table of contents that lists them all.
                whoosh_index.TOC(SCHEMA, segments, ix.latest_generation() + 1).write(ix.storage, ix.indexname)
                ix.close()
                count = sum(segment.doc_count_all() for segment in segments)
            except BaseException:
                shutil.rmtree(generation, ignore_errors=True)
                raise
            previous = self._current_target()
            self._point_current_at(generation)
            for old in self.root.glob("generation-*"):
                # Keep the previous generation one cycle: a search that just opened it may still read it.
                if old not in (generation, previous):
                    shutil.rmtree(old, ignore_errors=True)
            return count

    def _write_segments(self, generation: Path, batches: Iterator[list[dict]]) -> list[WhooshSegment]:
        """Each batch as one segment: here when there is one batch or one process, else in build processes."""
        first = next(batches, None)
        if first is None:
            return []
        second = next(batches, None)
        everything = itertools.chain([first], [] if second is None else [second], batches)
        if second is None or self.processes == 1:
            return [_write_segment(str(generation), batch) for batch in everything]
        # Spawned, not forked: a fork copies the parent's threads' locks (a server's, a test's) in whatever state.
        context = multiprocessing.get_context("spawn")
        segments: list[WhooshSegment] = []
        with ProcessPoolExecutor(self.processes, mp_context=context) as pool:
            pending: deque[Future[WhooshSegment]] = deque()
            try:
                for batch in everything:
                    pending.append(pool.submit(_write_segment, str(generation), batch))
                    if len(pending) > 2 * self.processes:  # bounded: the batches waiting are held in memory
                        segments.append(pending.popleft().result())
                segments.extend(future.result() for future in pending)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # the generation folder is removed after
                raise
        return segments

    def warm(self) -> None:
        """Read what searches sort and count by now (about half a second per 100k segments), not in a request."""
        with self.searcher() as searcher:
            if searcher is not None:
                self._segments.segments(searcher)

    def version(self) -> object:
        """Changes whenever what searches find may have changed: the live generation and its newest commit."""
        ix = self._live_index(create=False)
        return None if ix is None else (ix.storage.folder, ix.latest_generation())

    def document_ids(self) -> set[int]:
        with self.searcher() as searcher:
            if searcher is None:
                return set()
            return {int(fields["segment_id"]) for fields in searcher.all_stored_fields()}

    # --- reading -----------------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchPage:
        try:
            return self._search(request)
        except ArchiveError:
            raise
        except Exception as error:  # any failure to read derived data: the answer is the same, rebuild it
            log.error("the search index in %s cannot be read: %s", self.root, repr(error))
            raise IndexUnavailable() from None

    def _search(self, request: SearchRequest) -> SearchPage:
        parsed = parse_user_query(request.q, SCHEMA)
        filters = _filters(request)
        if parsed.query is None and not filters:
            return SearchPage(request.q, 0, request.page, request.per_page, [], {}, parsed.message)
        if not filters:
            query = parsed.query
        elif parsed.query is None:
            query = q.And(filters)
        else:
            query = q.Require(parsed.query, q.And(filters))  # the filters narrow; only the words score
        by_date = request.sort == "date" or parsed.query is None
        with self.searcher() as searcher:
            if searcher is None:
                raise IndexMissing()  # an empty archive's search: archive.search.index.search
            if searcher.doc_count_all() == 0:  # an index with no documents (every meeting purged) has no segments
                return SearchPage(request.q, 0, request.page, request.per_page, [], {}, parsed.message or NO_MATCH)
            found = self._matches(searcher, query)
            # Relevance: score, then index order (Whoosh's own tie-break). Date: newest meeting, then its time.
            if by_date:
                order = np.lexsort((found.docs, found.start_ms, -found.date))
            else:
                order = np.lexsort((found.docs, -found.scores))
            first = (request.page - 1) * request.per_page
            page = found.docs[order[first : first + request.per_page]]
            words, spanish = _highlight_words(searcher, query), _highlight_words(searcher, query, "text_es")
            hits = [_hit(searcher.stored_fields(int(docnum)), words, spanish) for docnum in page]
            total = len(found.docs)
            corrected = None
            if total == 0 and request.q:  # only then: the index's version costs a look at its folder
                spelling = (self.version(), request.q, _folded_stem, TEXT_ANALYZER.expression)
                corrected = suggestion(searcher, *spelling)
        message = parsed.message
        if total == 0 and message is None:
            message = NO_MATCH
        return SearchPage(
            request.q, total, request.page, request.per_page, hits, found.facets, message, True, corrected
        )

    def _matches(self, searcher: Any, query: q.Query) -> _Found:
        """Every match in every segment, with scores, sort keys and facet counts (see matches.py)."""
        docs, scores, dates, starts = [], [], [], []
        counts: dict[str, np.ndarray] = {}
        segments = self._segments.segments(searcher)
        for segment in segments:
            found = evaluate(query, segment)
            columns = segment.columns
            docs.append(found.docs + segment.offset)
            scores.append(found.scores)
            dates.append(columns.date[found.docs])
            starts.append(columns.start_ms[found.docs])
            for name, places in segment.facets.items():
                per_value = np.bincount(places[found.docs], minlength=len(segment.facet_values[name]))
                counts[name] = counts[name] + per_value if name in counts else per_value
        values = segments[0].facet_values
        facets = {name: _facet_counts(values[name], counts.get(name)) for name in FACETS}
        return _Found(
            np.concatenate(docs), np.concatenate(scores), np.concatenate(dates), np.concatenate(starts), facets
        )

    @contextmanager
    def searcher(self) -> Iterator:
        """This thread's searcher on the live generation (None when nothing was indexed yet).

        Opening a searcher reads the index's table of contents and term dictionaries (measured: ~50 ms at
        100k segments), so each thread keeps one and refreshes it when the index changed; a swapped
        generation gets a new one. Searchers are not shared between threads: their files have positions.
        """
        ix = self._live_index(create=False)
        if ix is None:
            yield None
            return
        open_searcher = ix.searcher
        local = self._thread
        if getattr(local, "index", None) is not ix:
            if getattr(local, "searcher", None) is not None:
                local.searcher.close()
            local.index, local.searcher = ix, open_searcher()
        elif not local.searcher.up_to_date():
            # Not Searcher.refresh(): it reuses the old segments' readers with their old deletions, so documents
            # a re-index replaced (a curator's correction) would still be found. A new searcher sees them gone.
            local.searcher.close()
            local.searcher = open_searcher()
        yield local.searcher

    # --- the generations -----------------------------------------------------------------------------

    def _current_target(self) -> Path | None:
        link = self.root / "current"
        if not link.is_symlink():
            return None
        target = link.resolve()  # once: every search looks (a few system calls each time)
        return target if target.is_dir() else None

    def _writable_index(self) -> whoosh_index.FileIndex:
        """The live generation, made first when there is none (every write goes here)."""
        ix = self._live_index(create=True)
        assert ix is not None  # made above when missing
        return ix

    def _live_index(self, *, create: bool) -> whoosh_index.FileIndex | None:
        target = self._current_target()
        if target is None:
            if not create:
                return None
            self.root.mkdir(parents=True, exist_ok=True)
            target = self.root / f"generation-{time.time_ns()}"
            target.mkdir()
            whoosh_index.create_in(str(target), SCHEMA).close()
            self._point_current_at(target)
        with self._lock:
            if self._opened is None or self._opened[0] != target:
                if self._broken == target:  # tried once: Whoosh leaks a file each try (a reindex makes a new one)
                    raise IndexUnavailable()
                try:
                    self._opened = (target, whoosh_index.open_dir(str(target)))
                except Exception as error:  # a damaged table of contents
                    self._broken = target
                    log.error("the search index in %s cannot be opened: %s", target, repr(error))
                    raise IndexUnavailable() from None
            return self._opened[1]

    def _point_current_at(self, generation: Path) -> None:
        temporary = self.root / f".current-{os.getpid()}"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(generation.name)
        os.replace(temporary, self.root / "current")
        descriptor = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "write.lock", "w") as handle:
            deadline = time.monotonic() + LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ArchiveError(
                            f"the search index is busy (another writer for {LOCK_TIMEOUT:g} s)"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _batches(items: Iterator[dict], size: int) -> Iterator[list[dict]]:
    while batch := list(itertools.islice(items, size)):
        yield batch


def _write_segment(folder: str, batch: list[dict]) -> WhooshSegment:
    """Write one batch of documents as a new segment of the index in folder, listed nowhere yet (rebuild()
    lists it). Runs in a build process; the index's lock is the rebuild's (_lk=False), as in Whoosh's own
    multiprocessing writer, whose private _finalize_segment this uses too."""
    writer = SegmentWriter(whoosh_index.open_dir(folder), _lk=False, limitmb=WRITER_MEMORY_MB)
    try:
        for fields in batch:
            writer.add_document(**fields)
        return writer._finalize_segment()
    except BaseException:
        writer.cancel()
        raise


def _fields(document: SegmentDocument) -> dict[str, object]:
    date = dt.datetime.combine(document.meeting_date, dt.time())
    fields: dict[str, object] = {
        "segment_id": str(document.segment_id),
        # Indexed with hidden swear words spelled out ("f**king" is found by "fucking"), stored as written.
        "text": searchable(document.text),
        "_stored_text": document.text,
        "speaker_id": document.speaker_id,
        "speaker_label": document.speaker_label,
        "meeting": document.meeting_slug,
        "meeting_title": document.meeting_title,
        "body": document.body,
        "date": date,
        "year": str(document.meeting_date.year),
        "start": document.start,
        "end": document.end,
        "start_ms": round(document.start * 1000),
    }
    optional = {
        "text_es": searchable(document.text) if document.language == "es" else None,
        "speaker": document.speaker_name,
        "speaker_name": document.speaker_name,
        "role": document.speaker_role,
        "kind": document.kind,
        "tags": ",".join(document.tags) if document.tags else None,
        "language": document.language,
        "body_slug": document.body_slug,
    }
    fields.update({key: value for key, value in optional.items() if value})
    return fields


def _facet_counts(values: np.ndarray, counts: np.ndarray | None) -> Sequence[FacetCount]:
    """The values found, most often first, ties in the values' order; documents without one are not a value."""
    if counts is None:
        return []
    present = np.flatnonzero(counts)  # in the values' (sorted) order
    if len(values) and values[0] == "":  # no value sorts first
        present = present[present != 0]
    order = present[np.argsort(-counts[present], kind="stable")]
    return FacetCounts(values[order], counts[order])


class FacetCounts(Sequence[FacetCount]):
    """A facet's counts, each made into a FacetCount only when it is read: a search finds hundreds of speakers and
    meetings, and its page shows ten of each (making them all was a twentieth of the page). Equal to the list of
    the same counts."""

    def __init__(self, values: np.ndarray, counts: np.ndarray) -> None:
        self._values, self._counts = values, counts

    def __len__(self) -> int:
        return len(self._values)

    @overload
    def __getitem__(self, index: int) -> FacetCount: ...
    @overload
    def __getitem__(self, index: slice) -> list[FacetCount]: ...
    def __getitem__(self, index: int | slice) -> FacetCount | list[FacetCount]:
        if isinstance(index, slice):
            return list(_made(self._values[index], self._counts[index]))
        return FacetCount(self._values[index], int(self._counts[index]))

    def __iter__(self) -> Iterator[FacetCount]:  # all of them (the API): made in C, no Python call per value
        return _made(self._values, self._counts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return repr(list(self))


def _made(values: np.ndarray, counts: np.ndarray) -> Iterator[FacetCount]:
    return map(functools.partial(tuple.__new__, FacetCount), zip(values.tolist(), counts.tolist(), strict=True))


def _filters(request: SearchRequest) -> list[q.Query]:
    """UI and API filters become query objects, never query-string text."""
    filters: list[q.Query] = []
    if request.speaker:
        filters.append(q.Term("speaker_name", request.speaker))
    if request.kind:
        filters.append(q.Term("kind", request.kind))
    if request.meeting:
        filters.append(q.Term("meeting", request.meeting))
    if request.body:
        filters.append(q.Term("body_slug", request.body))
    if request.language:
        filters.append(q.Term("language", request.language))
    if request.date_from or request.date_to:
        start = dt.datetime.combine(request.date_from, dt.time()) if request.date_from else None
        end = dt.datetime.combine(request.date_to, dt.time.max) if request.date_to else None
        filters.append(q.DateRange("date", start, end))
    return filters


def _highlight_words(searcher: Any, query: q.Query, fieldname: str = "text") -> frozenset[str]:
    """The indexed forms of the query's words (prefixes expanded), which snippets mark where they occur."""
    terms = query.existing_terms(searcher.reader(), phrases=True, expand=True, fieldname=fieldname)
    return frozenset(SCHEMA[fieldname].from_bytes(text) for _, text in terms)


def _hit(stored: dict, words: frozenset[str], spanish: frozenset[str] = frozenset()) -> SearchHit:
    from markupsafe import escape

    # Most segments are a sentence or two: show all of it; cut only long ones around the matches.
    text = stored["text"]
    if len(text) > SNIPPET_CHARACTERS:
        fragmenter = ContextFragmenter(maxchars=SNIPPET_CHARACTERS, surround=80)
        spanish_hit = stored.get("language") == "es" and spanish
        analyzer, marks = (SPANISH_ANALYZER, spanish) if spanish_hit else (TEXT_ANALYZER, words)
        marked = highlight(text, marks, analyzer, fragmenter, MarkFormatter(), top=3, mode="index")
    else:
        marked = marked_whole(text, words, spanish if stored.get("language") == "es" else frozenset())
    return SearchHit(
        segment_id=int(stored["segment_id"]),
        meeting_slug=stored["meeting"],
        meeting_title=stored["meeting_title"],
        meeting_date=stored["date"].date(),
        body=stored["body"],
        speaker_id=stored.get("speaker_id"),
        speaker_name=stored.get("speaker_name"),
        speaker_role=stored.get("role"),
        kind=stored.get("kind"),
        start=stored["start"],
        end=stored["end"],
        text=text,
        highlight=marked or str(escape(text)),
        speaker_label=stored.get("speaker_label"),
        language=stored.get("language"),
    )
