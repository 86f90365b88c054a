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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as q
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemmingAnalyzer
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.highlight import ContextFragmenter, HtmlFormatter, WholeFragmenter, highlight
from whoosh.support.charset import accent_map

from archive.errors import ArchiveError
from archive.search import FacetCount, SearchHit, SearchPage, SearchRequest
from archive.search.documents import SegmentDocument
from archive.search.matches import SegmentCache, evaluate
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


@dataclass(frozen=True)
class _Found:
    docs: np.ndarray  # the index's document numbers
    scores: np.ndarray
    date: np.ndarray
    start_ms: np.ndarray
    facets: dict[str, list[FacetCount]]


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
        self._segments = SegmentCache(FACETS)

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
                return SearchPage(request.q, 0, request.page, request.per_page, [], {}, parsed.message)
            found = self._matches(searcher, query)
            # Relevance: score, then index order (Whoosh's own tie-break). Date: newest meeting, then its time.
            if by_date:
                order = np.lexsort((found.docs, found.start_ms, -found.date))
            else:
                order = np.lexsort((found.docs, -found.scores))
            first = (request.page - 1) * request.per_page
            page = found.docs[order[first : first + request.per_page]]
            words = _highlight_words(searcher, query)
            hits = [_hit(searcher.stored_fields(int(docnum)), words) for docnum in page]
        total = len(found.docs)
        message = parsed.message
        if total == 0 and message is None:
            message = "No testimony matches. Try fewer words, another spelling, or remove a filter."
        return SearchPage(request.q, total, request.page, request.per_page, hits, found.facets, message)

    def _matches(self, searcher, query: q.Query) -> _Found:  # type: ignore[no-untyped-def]
        """Every match in every segment, with scores, sort keys and facet counts (see matches.py)."""
        docs, scores, dates, starts = [], [], [], []
        counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
        for segment in self._segments.segments(searcher):
            found = evaluate(query, segment)
            columns = segment.columns
            docs.append(found.docs + segment.offset)
            scores.append(found.scores)
            dates.append(columns.date[found.docs])
            starts.append(columns.start_ms[found.docs])
            for name, (ordinals, values) in columns.ordinals.items():
                per_value = np.bincount(ordinals[found.docs], minlength=len(values))
                bucket = counts[name]
                for i in np.flatnonzero(per_value).tolist():
                    if values[i]:
                        bucket[values[i]] = bucket.get(values[i], 0) + int(per_value[i])
        facets = {
            name: [FacetCount(v, c) for v, c in sorted(found.items(), key=lambda item: (-item[1], item[0]))]
            for name, found in counts.items()
        }
        return _Found(
            np.concatenate(docs), np.concatenate(scores), np.concatenate(dates), np.concatenate(starts), facets
        )

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


def _highlight_words(searcher, query: q.Query) -> frozenset[str]:  # type: ignore[no-untyped-def]
    """The indexed forms of the query's words (prefixes expanded), which snippets mark where they occur."""
    terms = query.existing_terms(searcher.reader(), phrases=True, expand=True, fieldname="text")
    return frozenset(SCHEMA["text"].from_bytes(text) for _, text in terms)


def _hit(stored: dict, words: frozenset[str]) -> SearchHit:  # type: ignore[type-arg]
    from markupsafe import escape

    # Most segments are a sentence or two: show all of it; cut only long ones around the matches.
    text = stored["text"]
    long = len(text) > SNIPPET_CHARACTERS
    fragmenter = ContextFragmenter(maxchars=SNIPPET_CHARACTERS, surround=80) if long else WholeFragmenter()
    marked = highlight(text, words, TEXT_ANALYZER, fragmenter, MarkFormatter(), top=3, mode="index")
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
    )
