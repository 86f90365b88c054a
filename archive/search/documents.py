"""What gets indexed for each segment, read from the database (the source of truth)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.db.models import Meeting, Segment


@dataclass(frozen=True)
class SegmentDocument:
    segment_id: int
    meeting_slug: str
    meeting_title: str
    meeting_date: dt.date
    body: str
    speaker_id: int | None
    speaker_name: str | None
    speaker_role: str | None
    kind: str | None
    tags: tuple[str, ...]
    language: str | None
    start: float
    end: float
    text: str


def meeting_documents(session: Session, meeting: Meeting) -> Iterator[SegmentDocument]:
    segments = session.scalars(
        select(Segment)
        .where(Segment.meeting_id == meeting.id)
        .options(selectinload(Segment.speaker))
        .order_by(Segment.start)
    )
    for segment in segments:
        speaker = segment.speaker
        yield SegmentDocument(
            segment_id=segment.id,
            meeting_slug=meeting.slug,
            meeting_title=meeting.title,
            meeting_date=meeting.date,
            body=meeting.body.name,
            speaker_id=speaker.id if speaker else None,
            speaker_name=speaker.name if speaker else None,
            speaker_role=speaker.role if speaker else None,
            kind=segment.kind,
            tags=tuple(segment.tags or ()),
            language=segment.language,
            start=segment.start,
            end=segment.end,
            text=segment.text,
        )


def all_documents(session: Session) -> Iterator[SegmentDocument]:
    meetings = session.scalars(select(Meeting).options(selectinload(Meeting.body)).order_by(Meeting.id))
    for meeting in meetings:
        yield from meeting_documents(session, meeting)
