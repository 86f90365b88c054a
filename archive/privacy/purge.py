"""Purging a meeting at a speaker's request, and bringing derived data in line after any ledger change.

A purge deletes the meeting's recordings (original and public copies), machine transcripts, segments, voices,
revisions, agenda, excerpts (with their clips and cards), the words its jobs kept (title, body, source, error)
and any upload of it still waiting, and leaves the Meeting row as a tombstone that names
no one: "Removed at a speaker's request", with its date and body. The ledger row is the record.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from archive.config import Settings
from archive.db.lookups import meeting_by_slug
from archive.db.models import (
    AgendaItem,
    Attribution,
    CampaignExcerpt,
    Excerpt,
    Job,
    JobChunk,
    Meeting,
    Overlap,
    Recording,
    Redaction,
    Revision,
    Segment,
    Speaker,
    TranscriptionRun,
    User,
)
from archive.db.types import utcnow
from archive.errors import InvalidInput
from archive.media.store import MediaStore
from archive.privacy.ledger import _append, _who

TOMBSTONE_TITLE = "Removed at a speaker's request"


def purge_meeting(
    session: Session,
    settings: Settings,
    slug: str,
    *,
    reason: str,
    requested_by: str,
    approved_by: str,
    user: User | None,
) -> list[Path]:
    """Delete the meeting's content rows (flushes; the caller commits). Returns the files to remove after commit."""
    meeting = meeting_by_slug(session, slug)
    if meeting.purged_at is not None:
        raise InvalidInput(f"meeting {slug!r} was already purged")
    who = _who(reason, requested_by, approved_by)
    files = _files_of(session, settings, meeting.id)
    recordings = select(Recording.id).where(Recording.meeting_id == meeting.id)
    speakers = select(Speaker.id).where(Speaker.meeting_id == meeting.id)
    excerpts = select(Excerpt.id).where(Excerpt.meeting_id == meeting.id)
    # Children before parents; bulk deletes, so neither database's cascade settings matter.
    session.execute(delete(CampaignExcerpt).where(CampaignExcerpt.excerpt_id.in_(excerpts)))
    session.execute(delete(Excerpt).where(Excerpt.meeting_id == meeting.id))
    session.execute(delete(Revision).where(Revision.meeting_id == meeting.id))
    session.execute(delete(AgendaItem).where(AgendaItem.meeting_id == meeting.id))
    session.execute(delete(Segment).where(Segment.meeting_id == meeting.id))
    session.execute(delete(Attribution).where(Attribution.speaker_id.in_(speakers)))
    # The ledger keeps its rows; their voice is gone with the meeting's voices.
    session.execute(
        update(Redaction)
        .where(Redaction.speaker_id.in_(speakers))
        .values(speaker_id=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(Overlap).where(Overlap.meeting_id == meeting.id))  # who spoke over whom, and when
    session.execute(delete(Speaker).where(Speaker.meeting_id == meeting.id))
    session.execute(delete(JobChunk).where(JobChunk.recording_id.in_(recordings)))
    session.execute(delete(TranscriptionRun).where(TranscriptionRun.recording_id.in_(recordings)))
    session.execute(delete(Recording).where(Recording.meeting_id == meeting.id))
    files.extend(_scrub_jobs(session, settings, meeting.id))
    meeting.title = TOMBSTONE_TITLE
    meeting.place = None
    meeting.source_url = None
    meeting.agenda_url = None
    meeting.reviewed_at = None
    meeting.reviewed_by = None
    meeting.purged_at = utcnow()
    _append(session, "meeting-purge", user, meeting, scope="purge", **who)
    session.expire(meeting)
    return files


def _scrub_jobs(session: Session, settings: Settings, meeting_id: int) -> list[Path]:
    """The meeting's jobs keep their row (the queue's history) but nothing of its content: the parameters keep the
    engine and model only, the error says it was purged, an unfinished job ends. Their uploads are returned, to be
    deleted with the rest."""
    uploads = []
    for job in session.scalars(select(Job).where(Job.meeting_id == meeting_id)):
        if name := job.parameters.get("upload"):
            uploads.append(settings.home / "uploads" / Path(str(name)).name)
        kept = ("engine", "model", "diarize")
        job.parameters = {k: v for k, v in job.parameters.items() if k in kept} | {"purged": True}
        if job.status in ("queued", "running"):
            job.status, job.lease_token, job.lease_until = "failed", None, None
        job.error = "the meeting was purged at a speaker's request"
    return uploads


def _files_of(session: Session, settings: Settings, meeting_id: int) -> list[Path]:
    """Every file that holds the meeting's content: media, machine transcripts, and what is made from them."""
    store = MediaStore(settings.media_dir)
    files: list[Path] = []
    for recording in session.scalars(select(Recording).where(Recording.meeting_id == meeting_id)):
        files.append(store.path_for(recording.sha256, recording.suffix))
        files.extend(settings.transcripts_dir.glob(f"{recording.sha256}.*"))
    for run_file in session.scalars(
        select(TranscriptionRun.transcript_file).join(Recording).where(Recording.meeting_id == meeting_id)
    ):
        files.append(settings.transcripts_dir / run_file)
    return sorted(set(files) | set(cached_files_of(session, settings, meeting_id)))


def cached_files_of(session: Session, settings: Settings, meeting_id: int) -> list[Path]:
    """The files made from a meeting for the public, each named <prefix>-<key of what it shows>: its recordings'
    public copies, its card, and its excerpts' clips, captioned videos and cards. Made again when asked for."""
    cache = settings.home / "cache"
    files: list[Path] = []
    for sha256 in session.scalars(select(Recording.sha256).where(Recording.meeting_id == meeting_id)):
        files.extend((cache / "public").glob(f"{sha256}-*"))
    slug = session.scalar(select(Meeting.slug).where(Meeting.id == meeting_id))
    if slug is not None:
        files.extend((cache / "cards" / "meetings").glob(f"{slug}-*"))
    for excerpt_slug in session.scalars(select(Excerpt.slug).where(Excerpt.meeting_id == meeting_id)):
        for folder in ("clips", "captioned", "cards"):
            files.extend((cache / folder).glob(f"{excerpt_slug}-*"))
    return sorted(set(files))


def forget_cached_files(session: Session, settings: Settings, meeting_ids: list[int], made_before: float) -> int:
    """After a ledger change: remove what was made from these meetings before it (their keys changed, so no one
    is served them again, but they may hold what is now withheld, and would wait for a later request to go). A
    file made since is the new version and stays. Returns how many went."""
    stale = [
        path
        for meeting_id in meeting_ids
        for path in cached_files_of(session, settings, meeting_id)
        if _modified(path) < made_before
    ]
    return remove_files(stale)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")  # gone already


def remove_files(files: list[Path]) -> int:
    """Delete a purge's files (after its transaction committed); how many were there."""
    removed = 0
    for path in files:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
    return removed
