"""A meeting's transcript review: a person marks the whole transcript checked, and pages and exports say so."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db.models import Meeting
from archive.errors import InvalidInput, NotFound

REVIEWER_LENGTH = 200  # Meeting.reviewed_by


def mark_reviewed(session: Session, slug: str, *, by: str) -> Meeting:
    """A person has checked the meeting's transcript against the recording, as it is now."""
    reviewer = by.strip()
    if not reviewer:
        raise InvalidInput("--by: say who reviewed the transcript")
    if len(reviewer) > REVIEWER_LENGTH:
        raise InvalidInput(f"--by: a reviewer's name has at most {REVIEWER_LENGTH} characters")
    meeting = _meeting(session, slug)
    meeting.reviewed_by = reviewer
    meeting.reviewed_at = dt.datetime.now(dt.UTC)
    return meeting


def mark_unreviewed(session: Session, slug: str) -> Meeting:
    """The transcript is the machine's again, as far as readers are told."""
    meeting = _meeting(session, slug)
    meeting.reviewed_by = None
    meeting.reviewed_at = None
    return meeting


def review_of(meeting: Meeting) -> dict[str, Any] | None:
    """{"by": name, "at": ISO 8601 in UTC} once a person has reviewed the transcript; None while it is the machine's."""
    if meeting.reviewed_at is None or not meeting.reviewed_by:
        return None
    at = meeting.reviewed_at
    if at.tzinfo is None:  # SQLite keeps no time zone; what is written is UTC
        at = at.replace(tzinfo=dt.UTC)
    return {"by": meeting.reviewed_by, "at": at.astimezone(dt.UTC).isoformat(timespec="seconds")}


def _meeting(session: Session, slug: str) -> Meeting:
    meeting = session.scalar(select(Meeting).where(Meeting.slug == slug))
    if meeting is None:
        raise NotFound(f"no meeting with slug {slug!r}")
    return meeting
