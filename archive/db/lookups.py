"""Rows people name by their public key: one lookup each, one error when there is none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db.models import Meeting, Segment, TranscriptionRun
from archive.errors import NotFound


def meeting_by_slug(session: Session, slug: str, *options: Any) -> Meeting:
    """The meeting with this slug (loader `options` applied); NotFound, which the web answers with a 404."""
    meeting = session.scalar(select(Meeting).where(Meeting.slug == slug).options(*options))
    if meeting is None:
        raise NotFound(f"no meeting with slug {slug!r}")
    return meeting


def current_runs(session: Session, meeting: Meeting) -> list[TranscriptionRun]:
    """The run behind each recording's segments, in recording order; for a recording without segments (a run
    that wrote nothing, e.g. Spanish speech for an English-only model), its newest run."""
    behind = {
        recording_id: run_id
        for recording_id, run_id in session.execute(
            select(Segment.recording_id, Segment.run_id).where(Segment.meeting_id == meeting.id).distinct()
        )
    }
    runs = []
    for recording in meeting.recordings:
        if recording.id in behind:
            runs.append(session.get_one(TranscriptionRun, behind[recording.id]))
        elif recording.runs:
            runs.append(max(recording.runs, key=lambda r: (r.created_at, r.id)))
    return runs


def meeting_gaps(session: Session, meeting: Meeting) -> list[dict[str, Any]]:
    """Speech the meeting's current runs heard and could not transcribe: {start, end, reason, language}, by time."""
    return sorted((gap for run in current_runs(session, meeting) for gap in run.gaps or []), key=lambda g: g["start"])
