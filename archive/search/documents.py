"""What gets indexed for each segment, read from the database (the source of truth)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.db.models import Meeting, Segment, Speaker
from archive.privacy.view import public_view


@dataclass(frozen=True)
class SegmentDocument:
    segment_id: int
    meeting_slug: str
    meeting_title: str
    meeting_date: dt.date
    body: str
    speaker_id: int | None  # the person's id, not the per-meeting voice's
    speaker_name: str | None  # the person's public name: never an anonymous person's real name
    speaker_role: str | None
    kind: str | None
    tags: tuple[str, ...]
    language: str | None
    start: float
    end: float
    text: str
    speaker_label: str | None = None  # the voice's diarization label in its meeting
    body_slug: str = ""


def meeting_documents(session: Session, meeting: Meeting) -> Iterator[SegmentDocument]:
    """The meeting's published segments as the public sees them (archive.privacy): an unpublished voice's
    segments are left out, withheld words and names never reach the index."""
    view = public_view(session, meeting)
    segments = session.scalars(
        select(Segment)
        .where(Segment.meeting_id == meeting.id)
        .options(selectinload(Segment.speaker).selectinload(Speaker.person))
        .order_by(Segment.start)
    )
    for segment in segments:
        published = view.publish(segment)
        if published is None:
            continue
        speaker = segment.speaker
        person = speaker.person if speaker is not None and view.names_person(speaker) else None
        voice = published.speaker
        yield SegmentDocument(
            segment_id=segment.id,
            meeting_slug=meeting.slug,
            meeting_title=view.redact_text(meeting.title),
            meeting_date=meeting.date,
            body=meeting.body.name,
            body_slug=meeting.body.slug,
            speaker_id=person.id if person else None,
            speaker_name=voice["name"] if voice else None,  # a person's public name or a pseudonym
            speaker_role=person.role if person else None,
            speaker_label=speaker.label if speaker else None,
            kind=segment.kind,
            tags=tuple(segment.tags or ()),
            language=segment.language,
            start=segment.start,
            end=segment.end,
            text=published.text,
        )


def all_documents(session: Session) -> Iterator[SegmentDocument]:
    meetings = session.scalars(select(Meeting).options(selectinload(Meeting.body)).order_by(Meeting.id))
    for meeting in meetings:
        yield from meeting_documents(session, meeting)
