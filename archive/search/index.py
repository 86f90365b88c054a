"""The index's small face: index_meeting, remove_meeting, rebuild, search — every write in one place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.config import Settings
from archive.db.models import Meeting
from archive.errors import InvalidInput, NotFound
from archive.search import SearchPage, SearchRequest
from archive.search.documents import SegmentDocument, all_documents, meeting_documents


class SearchBackend(Protocol):
    name: str

    def index_documents(self, slug: str, documents: Iterable[SegmentDocument]) -> int: ...
    def remove_meeting(self, slug: str) -> None: ...
    def rebuild(self, documents: Iterable[SegmentDocument]) -> int: ...
    def compact(self) -> None: ...
    def document_ids(self) -> set[int]: ...
    def search(self, request: SearchRequest) -> SearchPage: ...


def open_backend(settings: Settings) -> SearchBackend:
    if settings.search_backend == "whoosh":
        from archive.search.whoosh import WhooshBackend

        return WhooshBackend(settings.index_dir)
    if settings.search_backend == "postgres":
        from archive.search.postgres import PostgresBackend

        return PostgresBackend(settings.sqlalchemy_url)
    raise InvalidInput(f"search backend {settings.search_backend!r} is not one of: whoosh, postgres")  # validated


def index_meeting(backend: SearchBackend, session: Session, slug: str) -> int:
    """Bring the index up to date with one meeting's segments (after its transaction committed)."""
    meeting = session.scalar(select(Meeting).where(Meeting.slug == slug))
    if meeting is None:
        raise NotFound(f"no meeting with slug {slug!r}")
    return backend.index_documents(slug, meeting_documents(session, meeting))


def rebuild(backend: SearchBackend, session: Session) -> int:
    """Rebuild the whole index from the database; the old index serves until the new one is complete."""
    return backend.rebuild(all_documents(session))
