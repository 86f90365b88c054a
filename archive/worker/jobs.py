"""Background jobs: transcription of a meeting's recordings, resumable after a crash.

The `jobs` table is the queue (queued → running with a lease → done or failed, with attempts): a worker looks
for the oldest queued row, as it does for the outbox's mail, so several `testimony worker`s on several
machines share one database and nothing else. A job queued in any transaction (a ledger change queues a
"dumps" job) is found once that transaction commits.

- A worker claims a job with a compare-and-set UPDATE (queued → running, a fresh lease token): of two workers
  that find the same row, one wins. A thread renews the lease while the job runs (the heartbeat). The outbox's
  mail is taken and settled the same way (archive.db.leases).
- A worker that dies stops renewing; the reaper (run by every worker) puts a job whose lease ran out back in
  the queue. Attempts count, killed ones included; after `job_max_attempts` the job fails.
- Transcription commits each finished window as a JobChunk; a resumed job skips them (archive.transcribe.windows
  .Checkpoint). Segments are replaced per recording in one transaction, so a job finished twice (which the
  lease token prevents anyway) could not duplicate a segment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from archive.config import ENGINES, Settings
from archive.db.leases import compare_and_set, lapsed, lease_end
from archive.db.models import Job, JobChunk, Meeting, Recording
from archive.errors import ArchiveError, InvalidInput, NotFound, UnsupportedMedia
from archive.media.memory import release_freed_memory
from archive.media.store import sha256_of
from archive.transcribe.transcript import TranscriptSegment, Word
from archive.worker.rewrite import JobProgress, rewrite_after_ledger_change

if TYPE_CHECKING:
    from archive.ingest.pipeline import MeetingInfo

log = logging.getLogger(__name__)
PAUSE_AFTER_ERROR = 5.0  # seconds the jobs loop waits after the database or the queue failed
# An absolute path of two parts or more, up to a quote, a space or a colon; group 1 is its last part.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~:/])(?:/[^/\s'\":]+)+/([^/\s'\":]+)")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes for timezone-aware columns; they were stored in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


def submit_transcription(
    sessions: sessionmaker[Session],
    settings: Settings,
    slug: str,
    *,
    engine: str | None = None,
    model: str | None = None,
    languages: tuple[str, ...] | None = None,
    diarize: bool = True,
    created_by: str = "",
    key: str | None = None,
) -> tuple[Job, bool]:
    """Queue the transcription of a meeting: (job, made now). A known `key` (a form sent twice) returns its job."""
    with sessions() as session:
        meeting = session.scalar(select(Meeting).where(Meeting.slug == slug))
        if meeting is None:
            raise NotFound(f"no meeting with slug {slug!r}")
        # Progress counts each recording's audio in turn: simultaneous tracks add up here.
        meeting_id, duration = meeting.id, sum(r.duration for r in meeting.recordings)
    parameters = _engine_parameters(settings, engine, model, languages, diarize)
    return _submit(sessions, settings, "transcribe", parameters, meeting_id, duration, created_by, key)


def submit_upload(
    sessions: sessionmaker[Session],
    settings: Settings,
    upload: Path,
    info: MeetingInfo,
    *,
    engine: str | None = None,
    model: str | None = None,
    languages: tuple[str, ...] | None = None,
    diarize: bool = True,
    created_by: str = "",
    key: str | None = None,
    tracks: Sequence[tuple[Path, str]] = (),
    split_channels: bool = False,
    name: str = "",
) -> tuple[Job, bool]:
    """Queue an uploaded recording (a file under <home>/uploads/): the job stores it as a new meeting's
    recording, then transcribes it. (job, made now); a known `key` returns its job. With `tracks` (each
    upload and the name it was sent with, `upload` the first), the files are simultaneous tracks of the meeting;
    with `split_channels`, each channel of `upload` is one (archive.ingest.tracks)."""
    parameters = _engine_parameters(settings, engine, model, languages, diarize) | {
        "tracks": [{"upload": path.name, "name": name} for path, name in tracks],
        "split_channels": split_channels,
        "name": name,
        "upload": upload.name,
        "body": info.body,
        "title": info.title,
        "date": info.date.isoformat() if info.date else None,
        "source_url": info.source_url,
        "agenda_url": info.agenda_url,
    }
    # Its length is known once the job has decoded and stored it (progress_total is set then).
    return _submit(sessions, settings, "ingest", parameters, None, 0.0, created_by, key)


def uploads_dir(settings: Settings) -> Path:
    return settings.home / "uploads"


def _engine_parameters(
    settings: Settings, engine: str | None, model: str | None, languages: tuple[str, ...] | None, diarize: bool
) -> dict[str, Any]:
    engine = engine or settings.engine
    if engine not in ENGINES:
        raise InvalidInput(f"engine {engine!r} is not one of: {', '.join(ENGINES)}")
    # Whether someone chose the model (the upload form offers the default: taking it is no choice); a job for a
    # body with a vocabulary otherwise runs on the guided model (docs/engines.md).
    named = bool(os.environ.get("TESTIMONY_MODEL")) or bool(model and model != settings.model)
    chosen = settings.for_languages(languages)  # refuses unknown codes and an English-only model for others
    model = chosen.with_model(model or chosen.model).model
    return {
        "engine": engine,
        "model": model,
        "model_named": named,
        "languages": list(chosen.languages),
        "diarize": diarize,
    }


def _submit(
    sessions: sessionmaker[Session],
    settings: Settings,
    kind: str,
    parameters: dict[str, Any],
    meeting_id: int | None,
    duration: float,
    created_by: str,
    key: str | None,
) -> tuple[Job, bool]:
    with sessions() as session:
        if key:
            earlier = session.scalar(select(Job).where(Job.idempotency_key == key))
            if earlier is not None:
                return earlier, False
        job = Job(
            kind=kind,
            meeting_id=meeting_id,
            parameters=parameters,
            max_attempts=settings.job_max_attempts,
            progress_total=duration,
            created_by=created_by,
            idempotency_key=key,
        )
        session.add(job)
        try:
            session.commit()
        except IntegrityError:  # the same key, committed by a concurrent request
            session.rollback()
            return session.scalars(select(Job).where(Job.idempotency_key == key)).one(), False
    return job, True


def claim(
    sessions: sessionmaker[Session], job_id: int, lease_seconds: int, now: dt.datetime | None = None
) -> str | None:
    """Take a queued job: its new lease token, or None when it is not queued (another worker has it, or done)."""
    now = now or _now()
    token = secrets.token_hex(16)
    with sessions() as session, session.begin():
        taken = compare_and_set(
            session,
            Job.id,
            job_id,
            Job.status == "queued",
            status="running",
            lease_token=token,
            lease_until=lease_end(now, lease_seconds),
            worker=f"{socket.gethostname()}:{os.getpid()}",
            attempts=Job.attempts + 1,
            started_at=now,
            error=None,
        )
    return token if taken else None


class LeaseLost(ArchiveError):
    """Another worker holds this job now (our lease ran out): stop without writing anything more."""


class Heartbeat:
    """Renews a running job's lease every lease/3 seconds in a thread, and records progress on the way."""

    def __init__(self, sessions: sessionmaker[Session], job_id: int, token: str, lease_seconds: int) -> None:
        self.sessions, self.job_id, self.token, self.lease_seconds = sessions, job_id, token, lease_seconds
        self.progress: float | None = None
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-job-{job_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            try:
                self.beat()
            except Exception:  # a database hiccup: the next beat tries again, the lease has slack for two misses
                log.exception("job %s: could not renew the lease", self.job_id)

    def beat(self) -> None:
        values: dict[str, Any] = {"lease_until": lease_end(_now(), self.lease_seconds)}
        if self.progress is not None:
            values["progress_done"] = round(self.progress, 1)
        with self.sessions() as session, session.begin():
            renewed = compare_and_set(session, Job.id, self.job_id, Job.lease_token == self.token, **values)
        if not renewed:
            self.lost = True

    def check(self) -> None:
        if self.lost:
            raise LeaseLost(f"job {self.job_id}: another worker took it over")


class DatabaseCheckpoint:
    """A transcription's finished windows, as JobChunk rows committed one by one."""

    def __init__(self, sessions: sessionmaker[Session], job_id: int, recording_id: int, heartbeat: Heartbeat) -> None:
        self.sessions, self.job_id, self.recording_id, self.heartbeat = sessions, job_id, recording_id, heartbeat

    def done(self) -> dict[int, list[TranscriptSegment]]:
        with self.sessions() as session:
            chunks = session.scalars(
                select(JobChunk).where(JobChunk.job_id == self.job_id, JobChunk.recording_id == self.recording_id)
            )
            finished = {chunk.window: [_segment(raw) for raw in chunk.segments] for chunk in chunks}
        if finished:
            log.info(
                "job %s: recording %s: resuming after %d finished windows",
                self.job_id,
                self.recording_id,
                len(finished),
            )
        return finished

    def save(self, window: int, segments: list[TranscriptSegment]) -> None:
        self.heartbeat.check()  # a worker that lost its lease must not keep writing
        with self.sessions() as session, session.begin():
            session.add(
                JobChunk(
                    job_id=self.job_id,
                    recording_id=self.recording_id,
                    window=window,
                    segments=[dataclasses.asdict(segment) for segment in segments],
                )
            )


def _segment(raw: dict[str, Any]) -> TranscriptSegment:
    return TranscriptSegment(**{**raw, "words": tuple(Word(**word) for word in raw["words"])})


def run_job(
    settings: Settings,
    sessions: sessionmaker[Session],
    job_id: int,
    *,
    load_transcriber: Callable[[Settings], Any],
    load_diarizer: Callable[[Settings], Any] | None = None,
) -> bool:
    """Claim and run one job; False when it was not ours to run. Failures are recorded on the job, not raised."""
    from archive.curation.vocabulary import meeting_glossary
    from archive.ingest.pipeline import diarize_meeting, transcribe_meeting

    token = claim(sessions, job_id, settings.job_lease_seconds)
    if token is None:
        return False
    with Heartbeat(sessions, job_id, token, settings.job_lease_seconds) as heartbeat:
        try:
            with sessions() as session:
                job = session.get_one(Job, job_id)
                slug = job.meeting.slug if job.meeting else None
                kind, parameters = job.kind, dict(job.parameters)
            log.info("job %s: running (%s %s)", job_id, kind, slug or parameters.get("upload") or "")
            if kind == "dumps":  # queued with a change of the redaction ledger (archive.privacy.ledger)
                touched = [int(n) for n in parameters.get("meetings") or []]
                rewrite_after_ledger_change(settings, sessions, touched, JobProgress(sessions, job_id, token))
            else:
                job_settings = dataclasses.replace(
                    settings.for_languages(parameters.get("languages")),  # jobs queued before languages: none
                    engine=parameters["engine"],
                    model=parameters["model"],
                )
                if kind == "ingest" and slug is None:
                    slug = _store_upload(job_settings, sessions, job_id, parameters)
                if slug is None:
                    raise NotFound("its meeting was deleted")
                with sessions() as session:  # the body's vocabulary as it is now (archive.curation.vocabulary)
                    glossary = meeting_glossary(session, slug, settings.glossary_mode)
                if glossary is not None and not parameters.get("model_named", True) and settings.guided_model:
                    job_settings = dataclasses.replace(job_settings, model=settings.guided_model)
                transcriber = load_transcriber(job_settings)
                with sessions() as session:
                    meeting = session.scalars(select(Meeting).where(Meeting.slug == slug)).one()
                    starts = {
                        r.id: sum(earlier.duration for earlier in meeting.recordings[:i])
                        for i, r in enumerate(meeting.recordings)
                    }

                def checkpoint_for(recording_id: int) -> DatabaseCheckpoint:
                    return DatabaseCheckpoint(sessions, job_id, recording_id, heartbeat)

                def progress_from(recording_id: int) -> Callable[[float, float], None]:
                    def progress(done: float, _total: float) -> None:
                        heartbeat.progress = starts[recording_id] + done

                    return progress

                transcribe_meeting(
                    sessions,
                    job_settings,
                    slug,
                    transcriber,
                    replace=True,
                    checkpoint_for=checkpoint_for,
                    progress_for=progress_from,
                    glossary=glossary,
                )
                heartbeat.check()
                release_freed_memory()  # what transcription freed, before diarization's own (archive.media.memory)
                if parameters.get("diarize") and load_diarizer is not None:
                    diarize_meeting(sessions, job_settings, slug, load_diarizer(job_settings), replace=False)
        except LeaseLost:
            log.warning("job %s: lease lost to another worker; stopped", job_id)
            return True
        except Exception as error:  # recorded on the job in words; the worker goes on with the next one
            _failed(settings, sessions, job_id, token, error)
            return True
    _finish(sessions, job_id, token)
    return True


def _store_upload(settings: Settings, sessions: sessionmaker[Session], job_id: int, parameters: dict[str, Any]) -> str:
    """An upload job's first step: store the file as a new meeting's recording (content-addressed, so a second
    try finds it stored), record the meeting on the job, and delete the upload."""
    from archive.ingest.pipeline import MeetingInfo, ingest
    from archive.ingest.tracks import Track, chosen_tracks

    upload = uploads_dir(settings) / parameters["upload"]
    if not upload.exists():
        raise NotFound(f"the uploaded file {parameters['upload']} is no longer there; upload it again")
    info = MeetingInfo(
        body=parameters["body"],
        title=parameters["title"],
        date=dt.date.fromisoformat(parameters["date"]) if parameters.get("date") else None,
        source_url=parameters.get("source_url"),
        agenda_url=parameters.get("agenda_url"),
    )
    with sessions() as session:  # stored by an attempt that was killed before it could say so?
        earlier = session.scalar(select(Meeting).join(Recording).where(Recording.sha256 == sha256_of(upload)))
        if earlier is not None and (earlier.title, earlier.date) != (info.title, info.date):
            raise InvalidInput(f"this recording is already in the archive as meeting {earlier.slug}")
        slug = earlier.slug if earlier is not None else None
    listed = parameters.get("tracks") or []
    files = [uploads_dir(settings) / t["upload"] for t in listed]
    if slug is None:
        split = bool(parameters.get("split_channels"))
        name = parameters.get("name") or ""  # the name the file was sent with
        with chosen_tracks([upload], settings, tracks=False, split=split, name=name) as channels:
            tracks = [Track(f, t["name"]) for f, t in zip(files, listed, strict=True)] if listed else channels
            slug = ingest(sessions, settings, [upload], info, load_transcriber=None, tracks=tracks).slug
    with sessions() as session, session.begin():
        meeting = session.scalars(select(Meeting).where(Meeting.slug == slug)).one()
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(meeting_id=meeting.id, progress_total=sum(r.duration for r in meeting.recordings))
        )
    for path in {upload, *files}:
        path.unlink(missing_ok=True)
    return slug


def _finish(sessions: sessionmaker[Session], job_id: int, token: str) -> None:
    with sessions() as session, session.begin():
        job = session.get_one(Job, job_id)
        finished = compare_and_set(
            session,
            Job.id,
            job_id,
            and_(Job.lease_token == token, Job.status == "running"),
            status="done",
            finished_at=_now(),
            lease_token=None,
            lease_until=None,
            progress_done=job.progress_total,
        )
        if finished:
            # The windows served their purpose: the transcript file and the segments now hold them.
            session.execute(delete(JobChunk).where(JobChunk.job_id == job_id))
    log.info("job %s: %s", job_id, "done" if finished else "finished by another worker")


def _failed(settings: Settings, sessions: sessionmaker[Session], job_id: int, token: str, error: Exception) -> None:
    words = str(error) if isinstance(error, ArchiveError) else f"{type(error).__name__}: {error}"
    words = without_paths(words)  # curators read it: file names, not where the server keeps them
    if not isinstance(error, ArchiveError):
        log.exception("job %s failed", job_id)
    with sessions() as session, session.begin():
        job = session.get_one(Job, job_id)
        if job.lease_token != token:
            return
        again = job.attempts < job.max_attempts and not isinstance(error, ArchiveError)
        job.status = "queued" if again else "failed"
        upload = job.parameters.get("upload") if job.kind == "ingest" else None
        if upload and not again and isinstance(error, REFUSED):
            # The policy for a failed job's file (docs/operations/limits.md): a recording refused for what it is
            # can never succeed, so it goes at once; after any other failure it stays for `testimony jobs retry`.
            (uploads_dir(settings) / upload).unlink(missing_ok=True)
            words += " (the uploaded file was deleted: nothing was stored)"
        job.error = words
        job.lease_token = None
        job.lease_until = None
        if not again:
            job.finished_at = _now()
    log.info("job %s: %s (%s)", job_id, "queued again" if again else "failed", words)


# Errors that say a recording can never be stored (not a recording, too long, already another meeting's).
REFUSED = (UnsupportedMedia, InvalidInput)


def reap(settings: Settings, sessions: sessionmaker[Session], now: dt.datetime | None = None) -> list[int]:
    """Put jobs whose worker died (lease ran out) back in the queue, or fail them after their last attempt.
    Returns the ids queued again."""
    now = now or _now()
    requeued: list[int] = []
    with sessions() as session, session.begin():
        for job in session.scalars(select(Job).where(Job.status == "running", lapsed(Job.lease_until, now))):
            job.lease_token = None
            job.lease_until = None
            if job.attempts >= job.max_attempts:
                job.status = "failed"
                job.finished_at = now
                job.error = f"the worker stopped during each of its {job.attempts} attempts (killed or out of memory)"
            else:
                job.status = "queued"
                requeued.append(job.id)
    return requeued


def next_queued(sessions: sessionmaker[Session]) -> int | None:
    """The oldest queued job's id (the queue is the table); another worker may claim it first (see claim)."""
    with sessions() as session:
        return session.scalar(select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(1))


def work(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    once: bool = False,
    poll: float = 2.0,
    stop: threading.Event | None = None,
    load_transcriber: Callable[[Settings], Any],
    load_diarizer: Callable[[Settings], Any] | None = None,
) -> int:
    """Run jobs until `stop` is set (or, with `once`, until the queue is empty); returns how many ran."""
    stop = stop or threading.Event()
    ran = 0
    while not stop.is_set():
        try:
            reap(settings, sessions)
            job_id = next_queued(sessions)
            if job_id is None:
                if once:
                    break
                stop.wait(poll)
                continue
            if run_job(settings, sessions, job_id, load_transcriber=load_transcriber, load_diarizer=load_diarizer):
                ran += 1
        except Exception:  # the database or the queue went away, say: a job in hand is resumed after its lease
            log.exception("jobs: the worker could not go on; it tries again in %.0f s", PAUSE_AFTER_ERROR)
            if once:
                break
            stop.wait(PAUSE_AFTER_ERROR)
    return ran


def without_paths(words: str) -> str:
    """An error as a curator may read it: each absolute path (/srv/archive/uploads/x.flac) becomes its file name."""
    return ABSOLUTE_PATH.sub(lambda match: match.group(1), words)


def progress_of(job: Job, now: dt.datetime | None = None) -> dict[str, Any]:
    """What a job page shows: status, percent of audio done, an ETA from the rate so far, the error in words."""
    now = now or _now()
    percent = (
        100.0
        if job.status == "done"
        else (min(99.9, 100.0 * job.progress_done / job.progress_total) if job.progress_total else 0.0)
    )
    eta = None
    started = _aware(job.started_at)
    if job.status == "running" and started and job.progress_done > 0:
        elapsed = (now - started).total_seconds()
        rate = job.progress_done / max(elapsed, 1e-6)  # seconds of audio (or steps) per second
        eta = round((job.progress_total - job.progress_done) / rate) if rate > 0 else None
    if job.kind == "dumps":  # archive.worker.rewrite: counted in steps, not in audio
        done, total = int(job.progress_total if job.status == "done" else job.progress_done), int(job.progress_total)
        words = f"{done} of {total} steps done: the search index compacted, then each meeting in the new download"
    else:
        words = f"{round(percent, 1)}% of the audio transcribed"
    return {
        "id": job.id,
        "status": job.status,
        "percent": round(percent, 1),
        "done": job.progress_done,
        "total": job.progress_total,
        "words": words + (f", about {eta} s left" if eta is not None else ""),
        "eta_seconds": eta,
        "attempts": job.attempts,
        "error": job.error,
        "meeting": job.meeting.slug if job.meeting else None,
    }


def wait_for(sessions: sessionmaker[Session], job_id: int, timeout: float) -> Job:
    """Poll until the job is done or failed (for the CLI's --wait and for tests); InvalidInput on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        with sessions() as session:
            job = session.get_one(Job, job_id)
            if job.status in ("done", "failed"):
                return job
        if time.monotonic() > deadline:
            raise InvalidInput(f"job {job_id} is still {job.status} after {timeout:.0f} s")
        time.sleep(0.5)
