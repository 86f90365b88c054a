"""`testimony check`: files ↔ rows agree, hashes match, nothing is orphaned or half-written."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive.config import Settings
from archive.db.lookups import meeting_gaps
from archive.db.models import Job, Meeting, Recording, Segment, Speaker, TranscriptionRun
from archive.media.store import MediaStore, sha256_of
from archive.timecodes import format_clock


def check_archive(session: Session, settings: Settings) -> list[str]:
    """Every problem found, one line each; an empty list means the archive is consistent."""
    problems: list[str] = []
    store = MediaStore(settings.media_dir)
    expected_media = set()
    for recording in session.scalars(select(Recording)):
        path = store.path_for(recording.sha256, recording.suffix)
        expected_media.add(path)
        if not path.exists():
            problems.append(f"missing media file {path} for recording {recording.id} ({recording.original_name})")
        elif sha256_of(path) != recording.sha256:
            problems.append(f"media file {path} does not match its SHA-256")
    for path in sorted(settings.media_dir.glob("??/*")):
        if path not in expected_media:
            problems.append(f"orphaned media file {path} (no recording row; ingesting the same file adopts it)")
    if store.incoming.exists():
        for path in sorted(store.incoming.iterdir()):
            problems.append(f"unfinished upload {path} (safe to delete)")
    problems.extend(_upload_problems(session, settings))

    expected_transcripts = set()
    for run in session.scalars(select(TranscriptionRun)):
        path = settings.transcripts_dir / run.transcript_file
        expected_transcripts.add(path)
        if not path.exists():
            problems.append(f"missing machine transcript {path} for run {run.id}")
        elif sha256_of(path) != run.transcript_sha256:
            problems.append(f"machine transcript {path} was modified (SHA-256 differs)")
    known = set(session.scalars(select(Recording.sha256)))
    for path in sorted(settings.transcripts_dir.glob("*.json")):
        # A transcript of a known recording without its run is a finished step of an interrupted
        # ingest: the next ingest or `testimony transcribe` reuses it. Anything else is an orphan.
        if path not in expected_transcripts and path.name.split(".")[0] not in known:
            problems.append(f"machine transcript {path} belongs to no recording")
    for path in sorted(settings.transcripts_dir.glob(".*")):
        problems.append(f"unfinished transcript file {path} (safe to delete)")
    problems.extend(_speaker_problems(session))
    problems.extend(_index_problems(session, settings))
    return problems


def _upload_problems(session: Session, settings: Settings) -> list[str]:
    """Files in uploads/ that no queued or running job will store: a failed job's (kept for a retry) or orphans."""
    folder = settings.home / "uploads"
    if not folder.is_dir():
        return []
    jobs = {job.parameters.get("upload"): job for job in session.scalars(select(Job).where(Job.kind == "ingest"))}
    problems = []
    for path in sorted(folder.iterdir()):
        job = jobs.get(path.name)
        if job is not None and job.status in ("queued", "running"):
            continue
        if job is not None and job.status == "failed":
            problems.append(
                f"upload {path} is kept for failed job {job.id}: `testimony jobs retry {job.id}`, or delete it"
            )
        else:
            problems.append(f"orphaned upload {path} (no job will store it; safe to delete)")
    return problems


def untranscribed_speech(session: Session) -> list[str]:
    """Speech the meetings' current transcripts heard and could not transcribe, one line each. Not an
    inconsistency (the archive is as it should be) but words missing from the record, for a person to act on."""
    lines = []
    for meeting in session.scalars(select(Meeting).where(Meeting.purged_at.is_(None)).order_by(Meeting.slug)):
        for gap in meeting_gaps(session, meeting):
            lines.append(f"{meeting.slug} {format_clock(gap['start'])}–{format_clock(gap['end'])}: {gap['reason']}")
    return lines


def _speaker_problems(session: Session) -> list[str]:
    """A segment's voice must be a voice of its own meeting (merges and splits move rows between labels)."""
    crossed = session.execute(
        select(Segment.id, Segment.meeting_id, Speaker.meeting_id)
        .join(Speaker, Speaker.id == Segment.speaker_id)
        .where(Speaker.meeting_id != Segment.meeting_id)
    ).all()
    return [
        f"segment {segment} of meeting {meeting} is attributed to a voice of meeting {other}"
        for segment, meeting, other in crossed
    ]


def _index_problems(session: Session, settings: Settings) -> list[str]:
    from archive.search.index import index_problem, open_backend

    backend = open_backend(settings)
    if problem := index_problem(backend, session):  # missing with segments to find, or unreadable
        return [problem]
    try:
        indexed = backend.document_ids()
    except Exception as error:  # a damaged segment that a search did not touch
        return [f"the search index cannot be read ({type(error).__name__}): run `testimony reindex`"]
    # A segment withheld at a speaker's request (public_text "") is rightly absent from the index.
    stored = set(
        session.scalars(select(Segment.id).where(or_(Segment.public_text.is_(None), Segment.public_text != "")))
    )
    problems = []
    if missing := stored - indexed:
        problems.append(f"{len(missing)} segment(s) missing from the search index (run `testimony reindex`)")
    if extra := indexed - stored:
        problems.append(
            f"{len(extra)} search index document(s) for segments that no longer exist (run `testimony reindex`)"
        )
    return problems
