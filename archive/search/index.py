"""The index's small face: index_meeting, remove_meeting, rebuild, search — every write in one place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.config import Settings
from archive.db.lookups import meeting_by_slug
from archive.db.models import Meeting, Segment
from archive.errors import IndexMissing, IndexUnavailable, InvalidInput
from archive.privacy.ledger import refresh_public_text
from archive.search import SearchPage, SearchRequest
from archive.search.documents import SegmentDocument, all_documents, meeting_documents
from archive.search.linked import with_linked_lines


class SearchBackend(Protocol):
    name: str

    def index_documents(self, slug: str, documents: Iterable[SegmentDocument]) -> int: ...
    def remove_meeting(self, slug: str) -> None: ...
    def rebuild(self, documents: Iterable[SegmentDocument]) -> int: ...
    def compact(self) -> None: ...
    def document_ids(self) -> set[int]: ...
    def search(self, request: SearchRequest) -> SearchPage: ...
    def version(self) -> object: ...
    def warm(self) -> None: ...


def open_backend(settings: Settings) -> SearchBackend:
    if settings.search_backend == "whoosh":
        from archive.search.whoosh.backend import WhooshBackend

        return WhooshBackend(settings.index_dir, processes=settings.index_processes)
    if settings.search_backend == "postgres":
        from archive.search.postgres.backend import PostgresBackend

        return PostgresBackend(settings.sqlalchemy_url, window=settings.search_window)
    raise InvalidInput(f"search backend {settings.search_backend!r} is not one of: whoosh, postgres")  # validated


def search(backend: SearchBackend, session: Session, request: SearchRequest, *, linked: bool = True) -> SearchPage:
    """backend.search with each hit's interpretation or original beside it (archive.search.linked), where a
    missing index is right only for an archive with no segments: an empty page then; otherwise IndexUnavailable,
    which the site answers with a 503 and the command line with one line. linked=False: the caller knows that no
    link is confirmed (linked.any_confirmed), so no hit has a linked line to look for."""
    try:
        page = backend.search(request)
        return with_linked_lines(session, page) if linked else page
    except IndexMissing:
        if session.scalar(select(Segment.id).limit(1)) is not None:
            raise
        return SearchPage(request.q, 0, request.page, request.per_page, [], {}, None)


def index_problem(backend: SearchBackend, session: Session) -> str | None:
    """What is wrong with the search index, in a sentence, or None: `testimony serve` says it at start and
    `testimony check` lists it."""
    try:
        backend.warm()  # opens the index and reads its columns: a damaged segment fails here
        backend.search(SearchRequest(q="the", per_page=1))
    except IndexMissing as missing:
        return None if session.scalar(select(Segment.id).limit(1)) is None else str(missing)
    except IndexUnavailable as unreadable:
        return str(unreadable)
    except Exception as error:  # warm() is not wrapped: the same answer
        return f"{IndexUnavailable()} ({type(error).__name__})"
    return None


def index_meeting(backend: SearchBackend, session: Session, slug: str) -> int:
    """Bring the index up to date with one meeting's segments (after its transaction committed)."""
    meeting = meeting_by_slug(session, slug)
    # Segments made or corrected since the last redaction (a new transcript, a curator's edit) get their published
    # text first: PostgreSQL searches it, so withheld words must not come back with them (archive.privacy).
    if refresh_public_text(session, meeting):
        session.commit()
    return backend.index_documents(slug, meeting_documents(session, meeting))


def rebuild(backend: SearchBackend, session: Session) -> int:
    """Rebuild the whole index from the database; the old index serves until the new one is complete."""
    changed = sum(refresh_public_text(session, meeting) for meeting in session.scalars(select(Meeting)).all())
    if changed:  # a repair: published text that fell behind its segments (see index_meeting)
        session.commit()
    return backend.rebuild(all_documents(session))
