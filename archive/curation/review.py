"""A meeting's transcript review: a person marks the whole transcript checked, and pages and exports say so."""

from __future__ import annotations

from typing import TypedDict

from sqlalchemy.orm import Session

from archive.db.lookups import meeting_by_slug
from archive.db.models import Meeting
from archive.db.types import utcnow
from archive.errors import InvalidInput

REVIEWER_LENGTH = 200  # Meeting.reviewed_by


def mark_reviewed(session: Session, slug: str, *, by: str) -> Meeting:
    """A person has checked the meeting's transcript against the recording, as it is now."""
    reviewer = by.strip()
    if not reviewer:
        raise InvalidInput("--by: say who reviewed the transcript")
    if len(reviewer) > REVIEWER_LENGTH:
        raise InvalidInput(f"--by: a reviewer's name has at most {REVIEWER_LENGTH} characters")
    meeting = meeting_by_slug(session, slug)
    meeting.reviewed_by = reviewer
    meeting.reviewed_at = utcnow()
    return meeting


def mark_unreviewed(session: Session, slug: str) -> Meeting:
    """The transcript is the machine's again, as far as readers are told."""
    meeting = meeting_by_slug(session, slug)
    meeting.reviewed_by = None
    meeting.reviewed_at = None
    return meeting


class Review(TypedDict):
    by: str
    at: str  # ISO 8601, UTC


def review_of(meeting: Meeting) -> Review | None:
    """{"by": name, "at": ISO 8601 in UTC} once a person has reviewed the transcript; None while it is the machine's."""
    if meeting.reviewed_at is None or not meeting.reviewed_by:
        return None
    return {"by": meeting.reviewed_by, "at": meeting.reviewed_at.isoformat(timespec="seconds")}
