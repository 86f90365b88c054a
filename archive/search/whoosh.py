"""The Whoosh backend: an on-disk index under search_index/, swapped atomically on rebuild.

Layout: search_index/current is a symlink to the live generation-<n>/ folder. A rebuild writes a new
generation beside it and then replaces the symlink in one rename, so searches never see a half-built
index, and an interrupted rebuild leaves the old one serving. Every write (incremental or rebuild) holds
search_index/write.lock, so processes take turns instead of failing with Whoosh's LockError.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as q
from whoosh import sorting
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemmingAnalyzer
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.highlight import ContextFragmenter, HtmlFormatter, WholeFragmenter
from whoosh.support.charset import accent_map

from archive.errors import ArchiveError
from archive.search import FacetCount, SearchHit, SearchPage, SearchRequest
from archive.search.documents import SegmentDocument
from archive.search.query import parse_user_query

# Every word is kept (no stop list): "you're here" must match as a phrase. Accents fold: "José" = "jose".
TEXT_ANALYZER = StemmingAnalyzer(stoplist=None, minsize=1) | CharsetFilter(accent_map)
NAME_ANALYZER = RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)

SCHEMA = Schema(
    segment_id=ID(stored=True, unique=True),
    text=TEXT(analyzer=TEXT_ANALYZER, stored=True, phrase=True),
    # Fields other than the text are matched, never scored: scorable fields cost Whoosh a field-length
    # lookup per posting when it writes (measured: a third of the build time).
    # The speaker is the person (their public name: an anonymous person's real name never reaches the index).
    speaker=KEYWORD(analyzer=NAME_ANALYZER),  # for speaker:rosa in a query string
    speaker_name=ID(stored=True, sortable=True),  # the exact value, for facets and filters
    speaker_id=STORED,  # the person's id
    speaker_label=STORED,  # the voice in its meeting, for voices nobody has identified yet
    role=KEYWORD(analyzer=NAME_ANALYZER, stored=True),
    kind=ID(stored=True, sortable=True),
    tags=KEYWORD(stored=True, commas=True, lowercase=True),
    meeting=ID(stored=True, sortable=True),
    meeting_title=KEYWORD(analyzer=TEXT_ANALYZER, stored=True),
    body=KEYWORD(analyzer=NAME_ANALYZER, stored=True),
    date=DATETIME(stored=True, sortable=True),
    year=ID(sortable=True),
    start=NUMERIC(float, stored=True),
    end=NUMERIC(float, stored=True),
    # Milliseconds, for "date order" within a meeting (whoosh-reloaded cannot sort a float column).
    start_ms=NUMERIC(int, bits=64, sortable=True),
    language=ID(stored=True),
)
FACETS = {"speaker": "speaker_name", "kind": "kind", "meeting": "meeting", "year": "year"}
SNIPPET_CHARACTERS = 400
LOCK_TIMEOUT = 120.0  # seconds a writer waits for another before giving up with a clear error


class MarkFormatter(HtmlFormatter):
    """Matches in <mark>; Whoosh escapes the rest of the text."""

    template = "<mark>%(t)s</mark>"


class WhooshBackend:
    name = "whoosh"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._opened: tuple[Path, whoosh_index.FileIndex] | None = None
        self._thread = threading.local()
        self._columns_key: object = None
        self._columns: dict[str, tuple[np.ndarray, list[str]]] = {}

    # --- writing -----------------------------------------------------------------------------------

    def index_documents(self, slug: str, documents: Iterable[SegmentDocument]) -> int:
        """Replace one meeting's documents, in one commit."""
        with self._write_lock():
            ix = self._live_index(create=True)
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
            ix = self._live_index(create=True)
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
            ix = self._live_index(create=True)
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
                writer = ix.writer(limitmb=256)
                try:
                    count = 0
                    for document in documents:
                        writer.add_document(**_fields(document))
                        count += 1
                except BaseException:
                    writer.cancel()  # closes its temporary files
                    raise
                writer.commit(optimize=True)
                ix.close()
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

    def document_ids(self) -> set[int]:
        with self.searcher() as searcher:
            if searcher is None:
                return set()
            return {int(fields["segment_id"]) for fields in searcher.all_stored_fields()}

    # --- reading -----------------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchPage:
        parsed = parse_user_query(request.q, SCHEMA)
        filters = _filters(request)
        if parsed.query is None and not filters:
            return SearchPage(request.q, 0, request.page, request.per_page, [], {}, parsed.message)
        if not filters:
            query = parsed.query
        elif parsed.query is None:
            query = q.And(filters)
        else:
            # Inside the query rather than Whoosh's filter=: posting lists are intersected first, so phrase
            # checks and scoring touch only documents that pass the filters; Require scores the words alone.
            query = q.Require(parsed.query, q.And(filters))
        sortedby = None
        if request.sort == "date" or parsed.query is None:
            sortedby = [sorting.FieldFacet("date", reverse=True), sorting.FieldFacet("start_ms")]
        with self.searcher() as searcher:
            if searcher is None:
                return SearchPage(request.q, 0, request.page, request.per_page, [], {}, parsed.message)
            # No groupedby here: Whoosh would then score every match in Python; facets are counted below.
            # optimize=False with filters: Whoosh's block-quality skipping trips an assertion inside
            # Require over an intersection (found by benchmarks/search.py: a word and a date range).
            results = searcher.search_page(
                query, request.page, pagelen=request.per_page, sortedby=sortedby, terms=True, optimize=not filters
            )
            results.results.formatter = MarkFormatter()
            # Whoosh answers a page past the end with the last page; a person asking for it gets none.
            hits = [_hit(hit, results.results) for hit in results] if results.pagenum == request.page else []
            total, facets = self._count(searcher, query)
        message = parsed.message
        if total == 0 and message is None:
            message = "No testimony matches. Try fewer words, another spelling, or remove a filter."
        return SearchPage(request.q, total, request.page, request.per_page, hits, facets, message)

    def _count(self, searcher, query: q.Query) -> tuple[int, dict[str, list[FacetCount]]]:  # type: ignore[no-untyped-def]
        """The total and the counts per facet over every match: numpy over cached columns."""
        matches = np.fromiter(searcher.docs_for_query(query), dtype=np.int64)
        facets = {}
        for name, field in FACETS.items():
            ordinals, values = self._column_ordinals(searcher, field)
            counts = np.bincount(ordinals[matches], minlength=len(values)) if len(matches) else np.zeros(len(values))
            found = [FacetCount(values[i], int(counts[i])) for i in np.flatnonzero(counts) if values[i]]
            facets[name] = sorted(found, key=lambda f: (-f.count, f.value))
        return len(matches), facets

    def _column_ordinals(self, searcher, field: str) -> tuple[np.ndarray, list[str]]:  # type: ignore[no-untyped-def]
        """Each document's value of a sortable field as a small integer, computed once per index version."""
        reader = searcher.reader()
        # The reader's own generation (not the index's latest): document numbers belong to what it reads.
        key = (self._current_target(), reader.generation(), reader.doc_count_all())
        with self._lock:
            if self._columns_key != key:
                self._columns_key, self._columns = key, {}
            if field not in self._columns:
                column = reader.column_reader(field)
                values = np.array([_column_value(column, n) for n in range(reader.doc_count_all())], dtype=object)
                uniques, ordinals = np.unique(values, return_inverse=True)
                self._columns[field] = (ordinals.astype(np.int64), [str(v) for v in uniques])
            return self._columns[field]

    @contextmanager
    def searcher(self) -> Iterator:  # type: ignore[type-arg]
        """This thread's searcher on the live generation (None when nothing was indexed yet).

        Opening a searcher reads the index's table of contents and term dictionaries (measured: ~50 ms at
        100k segments), so each thread keeps one and refreshes it when the index changed; a swapped
        generation gets a new one. Searchers are not shared between threads: their files have positions.
        """
        ix = self._live_index(create=False)
        if ix is None:
            yield None
            return
        local = self._thread
        if getattr(local, "index", None) is not ix:
            if getattr(local, "searcher", None) is not None:
                local.searcher.close()
            local.index, local.searcher = ix, ix.searcher()
        elif not local.searcher.up_to_date():
            # Not Searcher.refresh(): it reuses the old segments' readers with their old deletions, so documents
            # a re-index replaced (a curator's correction) would still be found. A new searcher sees them gone.
            local.searcher.close()
            local.searcher = ix.searcher()
        yield local.searcher

    # --- the generations -----------------------------------------------------------------------------

    def _current_target(self) -> Path | None:
        link = self.root / "current"
        return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None

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
                self._opened = (target, whoosh_index.open_dir(str(target)))
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


def _column_value(column, docnum: int) -> str:  # type: ignore[no-untyped-def]
    # A segment whose documents never set the field has a short column; those documents have no value.
    try:
        return column[docnum] or ""
    except IndexError:
        return ""


def _fields(document: SegmentDocument) -> dict[str, object]:
    date = dt.datetime.combine(document.meeting_date, dt.time())
    fields: dict[str, object] = {
        "segment_id": str(document.segment_id),
        "text": document.text,
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
        "speaker": document.speaker_name,
        "speaker_name": document.speaker_name,
        "role": document.speaker_role,
        "kind": document.kind,
        "tags": ",".join(document.tags) if document.tags else None,
        "language": document.language,
    }
    fields.update({key: value for key, value in optional.items() if value})
    return fields


def _filters(request: SearchRequest) -> list[q.Query]:
    """UI and API filters become query objects, never query-string text."""
    filters: list[q.Query] = []
    if request.speaker:
        filters.append(q.Term("speaker_name", request.speaker))
    if request.kind:
        filters.append(q.Term("kind", request.kind))
    if request.meeting:
        filters.append(q.Term("meeting", request.meeting))
    if request.date_from or request.date_to:
        start = dt.datetime.combine(request.date_from, dt.time()) if request.date_from else None
        end = dt.datetime.combine(request.date_to, dt.time.max) if request.date_to else None
        filters.append(q.DateRange("date", start, end))
    return filters


def _hit(hit, results) -> SearchHit:  # type: ignore[no-untyped-def]
    from markupsafe import escape

    # Most segments are a sentence or two: show all of it; cut only long ones around the matches.
    long = len(hit["text"]) > SNIPPET_CHARACTERS
    results.fragmenter = ContextFragmenter(maxchars=SNIPPET_CHARACTERS, surround=80) if long else WholeFragmenter()
    highlight = hit.highlights("text", top=3) or str(escape(hit["text"]))
    stored = hit.fields()  # not hit.get(): whoosh3 falls back to sortable columns there, and fails on short ones
    return SearchHit(
        segment_id=int(hit["segment_id"]),
        meeting_slug=hit["meeting"],
        meeting_title=hit["meeting_title"],
        meeting_date=hit["date"].date(),
        body=hit["body"],
        speaker_id=stored.get("speaker_id"),
        speaker_name=stored.get("speaker_name"),
        speaker_role=stored.get("role"),
        kind=stored.get("kind"),
        start=hit["start"],
        end=hit["end"],
        text=hit["text"],
        highlight=highlight,
        speaker_label=stored.get("speaker_label"),
    )
