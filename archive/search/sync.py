"""The index follows the database by itself: a session notes the meetings each flush touched, and once its
transaction commits those meetings are indexed again (Warehouse's warehouse/search/__init__.py does the same).

No view, command or job calls the index after a change: one forgotten call would leave withheld words
searchable. Before the commit, in the same transaction, each touched meeting's published text is brought up to
date (PostgreSQL searches it); after the commit, its documents are written again, so a search no longer finds
what a redaction withholds. The words leave the index's bytes when the worker compacts it (the job every ledger
change queues, archive.worker.rewrite): at 100,000 segments that takes seconds, too long for a curator's request.
A rollback forgets what was noted.

Bulk statements (`session.execute(update(Segment)…)`) never reach a flush: before one runs, the meetings its
WHERE clause reaches are noted the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, event, select
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction, sessionmaker
from sqlalchemy.sql import ColumnElement

from archive.db.models import (
    AgendaItem,
    Attribution,
    Body,
    Meeting,
    Person,
    Recording,
    Redaction,
    Segment,
    Speaker,
)
from archive.privacy.ledger import refresh_public_text
from archive.search.index import SearchBackend, index_meeting
from archive.speakers.kinds import suggest_kinds

log = logging.getLogger(__name__)

BACKEND = "search_backend"  # session.info: the backend this session's commits are indexed into
_MEETINGS = "search_changed_meetings"  # session.info: {meeting id: slug or None} touched in this transaction
# Rows that carry their meeting: a change to any of them can change what the meeting's documents hold.
_OF_A_MEETING = (Segment, Speaker, Redaction, AgendaItem, Recording)


def keep_in_step(sessions: sessionmaker[Session], backend: SearchBackend) -> None:
    """Index, after every commit of a session this sessionmaker makes, the meetings the commit changed."""
    sessions.kw["info"] = {**sessions.kw.get("info", {}), BACKEND: backend}
    event.listen(sessions, "before_flush", _before_flush)
    event.listen(sessions, "after_flush", _after_flush)
    event.listen(sessions, "do_orm_execute", _before_bulk_statement)
    event.listen(sessions, "before_commit", _before_commit)
    event.listen(sessions, "after_commit", _after_commit)
    event.listen(sessions, "after_rollback", _forget)
    event.listen(sessions, "after_transaction_end", _transaction_ended)


def backend_of(sessions: sessionmaker[Session]) -> SearchBackend:
    """The backend a sessionmaker's commits are indexed into (the one `keep_in_step` was given)."""
    backend: SearchBackend = sessions.kw["info"][BACKEND]
    return backend


def changed_meetings(session: Session) -> dict[int, str | None]:
    """The meetings this session's open transaction has touched so far: {id: slug, when known}."""
    noted: dict[int, str | None] = session.info.setdefault(_MEETINGS, {})
    return noted


# --- noting ---------------------------------------------------------------------------------------------------


def _before_flush(session: Session, _context: UOWTransaction, _instances: Iterable[Any] | None) -> None:
    """People and bodies reach their meetings through other rows: look them up while those still point at them
    (deleting a person unsets their voices in the same flush)."""
    people = [o.id for o in (*session.dirty, *session.deleted) if isinstance(o, Person) and o.id is not None]
    bodies = [o.id for o in (*session.dirty, *session.deleted) if isinstance(o, Body) and o.id is not None]
    if people:
        _note_ids(session, select(Speaker.meeting_id).where(Speaker.person_id.in_(people)))
    if bodies:
        _note_ids(session, select(Meeting.id).where(Meeting.body_id.in_(bodies)))
    for row in session.deleted:  # their columns, before the flush expires them
        _note_row(session, row)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    for row in (*session.new, *session.dirty):
        _note_row(session, row)


def _note_row(session: Session, row: object) -> None:
    noted = changed_meetings(session)
    if isinstance(row, Meeting):
        noted[row.id] = row.slug
    elif isinstance(row, _OF_A_MEETING):
        if row.meeting_id is not None:
            noted.setdefault(row.meeting_id, None)
    elif isinstance(row, Attribution):
        _note_ids(session, select(Speaker.meeting_id).where(Speaker.id == row.speaker_id))


def _note_ids(session: Session, query: Any) -> None:
    noted = changed_meetings(session)
    for meeting_id in session.execute(query).scalars():
        if meeting_id is not None:
            noted.setdefault(meeting_id, None)


def _before_bulk_statement(state: ORMExecuteState) -> None:
    """An UPDATE or DELETE that bypasses the flush: note the meetings its rows belong to, before it runs."""
    if not (state.is_update or state.is_delete):
        return
    statement: Any = state.statement
    table = getattr(statement, "table", None)
    if not isinstance(table, Table):
        return
    reached = _meetings_reached(table, statement.whereclause)
    if reached is not None:
        _note_ids(state.session, reached)


def _meetings_reached(table: Table, where: ColumnElement[bool] | None) -> Any:
    """A query of the meeting ids of the rows `where` picks from `table`; None for a table outside the index."""

    def rows(column: Any) -> Any:
        query = select(column)
        return query.where(where) if where is not None else query

    if table.name == Meeting.__tablename__:
        return rows(table.c.id)
    if any(table.name == model.__tablename__ for model in _OF_A_MEETING):
        return rows(table.c.meeting_id)
    if table.name == Person.__tablename__:
        return select(Speaker.meeting_id).where(Speaker.person_id.in_(rows(table.c.id)))
    if table.name == Attribution.__tablename__:
        return select(Speaker.meeting_id).where(Speaker.id.in_(rows(table.c.speaker_id)))
    if table.name == Body.__tablename__:
        return select(Meeting.id).where(Meeting.body_id.in_(rows(table.c.id)))
    return None


# --- after the commit -------------------------------------------------------------------------------------------


def _before_commit(session: Session) -> None:
    """Suggested kinds and published text follow the segments, voices, agenda and ledger in the transaction that
    changed them."""
    for meeting_id in list(changed_meetings(session)):
        meeting = session.get(Meeting, meeting_id)
        if meeting is not None:
            suggest_kinds(session, meeting)
            refresh_public_text(session, meeting)


def _after_commit(session: Session) -> None:
    noted = session.info.pop(_MEETINGS, None) or {}
    if not noted:
        return
    backend: SearchBackend = session.info[BACKEND]
    # A session of its own, on the same connection source, without these hooks: indexing only reads.
    with Session(bind=session.get_bind()) as reading:
        for meeting_id, slug in noted.items():
            meeting = reading.get(Meeting, meeting_id)
            if meeting is not None:
                index_meeting(backend, reading, meeting.slug)
            elif slug is not None:  # the row is gone: so are its documents
                backend.remove_meeting(slug)


def _forget(session: Session) -> None:
    session.info.pop(_MEETINGS, None)


def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    """A session closed without committing ends its transaction without a rollback event: forget there too."""
    if transaction.parent is None:
        _forget(session)
