"""Rows people name by their public key: one lookup each, one error when there is none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db.models import Meeting
from archive.errors import NotFound


def meeting_by_slug(session: Session, slug: str, *options: Any) -> Meeting:
    """The meeting with this slug (loader `options` applied); NotFound, which the web answers with a 404."""
    meeting = session.scalar(select(Meeting).where(Meeting.slug == slug).options(*options))
    if meeting is None:
        raise NotFound(f"no meeting with slug {slug!r}")
    return meeting
