"""Agenda items: a meeting's chapters (a title and the second it starts), each change kept as a revision."""

from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.curation.revisions import actor_of, add_revision, snapshot
from archive.curation.words import clean_text
from archive.db.lookups import meeting_by_slug
from archive.db.models import AgendaItem, Meeting, Revision, User
from archive.errors import InvalidInput, NotFound

MAX_TITLE = 300


def agenda(session: Session, meeting_id: int) -> list[AgendaItem]:
    return list(
        session.scalars(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.start, AgendaItem.id)
        ).all()
    )


def _checked(meeting: Meeting, start: float, title: str) -> tuple[float, str]:
    if not math.isfinite(start) or not 0 <= start <= max(meeting.duration, 0.0):
        raise InvalidInput(f"start: {start:g} s is not within the meeting (0 to {meeting.duration:g} s)")
    return round(start, 3), clean_text(title, field="title", limit=MAX_TITLE)


def find_item(session: Session, item_id: int) -> AgendaItem:
    item = session.get(AgendaItem, item_id)
    if item is None:
        raise NotFound(f"no agenda item {item_id}")
    return item


def add_agenda_item(
    session: Session, meeting_slug: str, start: float, title: str, *, user: User | None = None, actor: str = ""
) -> Revision:
    meeting = meeting_by_slug(session, meeting_slug)
    start, title = _checked(meeting, start, title)
    item = AgendaItem(meeting_id=meeting.id, start=start, title=title, created_by=actor_of(user, actor))
    session.add(item)
    session.flush()
    return add_revision(
        session,
        meeting,
        "agenda",
        "agenda-add",
        {"agenda_items": []},
        {"agenda_items": [snapshot(item)]},
        user=user,
        actor=actor,
    )


def edit_agenda_item(
    session: Session, item_id: int, start: float, title: str, *, user: User | None = None, actor: str = ""
) -> Revision:
    item = find_item(session, item_id)
    meeting = session.get_one(Meeting, item.meeting_id)
    start, title = _checked(meeting, start, title)
    if (item.start, item.title) == (start, title):
        raise InvalidInput("title: nothing changed")
    before = snapshot(item)
    item.start, item.title = start, title
    session.flush()
    return add_revision(
        session,
        meeting,
        "agenda",
        "agenda-edit",
        {"agenda_items": [before]},
        {"agenda_items": [snapshot(item)]},
        user=user,
        actor=actor,
    )


def delete_agenda_item(session: Session, item_id: int, *, user: User | None = None, actor: str = "") -> Revision:
    item = find_item(session, item_id)
    meeting = session.get_one(Meeting, item.meeting_id)
    before = snapshot(item)
    session.delete(item)
    session.flush()
    return add_revision(
        session,
        meeting,
        "agenda",
        "agenda-delete",
        {"agenda_items": [before]},
        {"agenda_items": []},
        user=user,
        actor=actor,
    )
