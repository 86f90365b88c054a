"""A recording sent to the archive, from the upload form (/admin/upload) or the API (POST /api/meetings): one check
of its fields and files, one way to store them and queue the job that transcribes them.

The request only streams the files to <home>/uploads/ (Werkzeug spools a large body to a temporary file, never
to memory; archive.web.limits refuses an oversized one with a 413 before it is read) and queues a job: decoding,
storing and transcribing are the worker's. The same key twice (the form's random key, the API's Idempotency-Key)
queues one job.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from archive.accounts.users import record
from archive.config import ENGINES
from archive.db.models import Job
from archive.errors import InvalidInput
from archive.ingest.pipeline import MeetingInfo
from archive.web.context import address, db, settings, signed_in
from archive.worker.jobs import progress_of, submit_upload, uploads_dir

log = logging.getLogger(__name__)

KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
WEB_ADDRESS = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)
SUFFIX = re.compile(r"\.([A-Za-z0-9]{1,8})$")
FIELDS = ("body", "title", "date", "source_url", "agenda_url", "engine", "model", "layout", "languages")
# How the files make one meeting: one recording, simultaneous tracks (a file per person), a track per channel.
LAYOUTS = ("one", "tracks", "channels")
MAX_TRACKS = 32


class UploadRefused(Exception):
    """The upload was not taken, nothing stored: the reason in a sentence, and the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class JobJSON(TypedDict):
    """An upload's job (POST /api/meetings; its progress at /admin/jobs/<id>.json, polled the same way)."""

    id: int
    status: str  # queued, running, done or failed
    percent: float
    eta_seconds: int | None
    attempts: int
    error: str | None
    meeting: str | None  # the new meeting's slug, once stored
    url: str  # the job's progress, as JSON


def job_json(job_id: int) -> JobJSON:
    """The job as the request's session reads it now (submit_upload's own session has closed)."""
    state = progress_of(db().get_one(Job, job_id))
    return {**state, "url": f"/admin/jobs/{job_id}.json"}  # type: ignore[typeddict-item]


def receive_upload(values: dict[str, str], files: Sequence[FileStorage]) -> tuple[Job, bool]:
    """Check the fields (FIELDS and `key`) and the files, save the files and queue their job, with an audit entry:
    (job, made now). A key sent before answers its job, made False. UploadRefused: nothing was stored."""
    try:
        info, engine, model, languages, key = check(values)
    except InvalidInput as error:
        raise UploadRefused(str(error)) from None
    session = db()
    earlier = session.scalar(select(Job).where(Job.idempotency_key == key))
    if earlier is not None:  # the same form again (a double click, the back button, a retried request): its job
        return earlier, False
    files = [f for f in files if f.filename]
    if not files:
        raise UploadRefused("Choose the recording to upload.")
    try:
        tracks = layout(values, [f.filename or "" for f in files])
    except InvalidInput as error:
        raise UploadRefused(str(error)) from None
    paths = _save(files)
    user = signed_in()
    job, made = submit_upload(
        current_app.extensions["sessions"],
        settings(),
        paths[0],
        info,
        engine=engine,
        model=model,
        languages=languages,
        created_by=user.email,
        key=key,
        tracks=list(zip(paths, [f.filename or "" for f in files], strict=True)) if tracks else (),
        split_channels=values["layout"] == "channels",
        name=(files[0].filename or "")[:200],
    )
    if made:
        with current_app.extensions["sessions"]() as audit, audit.begin():
            record(
                audit,
                "upload",
                user=user,
                target=f"job {job.id}",
                address=address(),
                file=", ".join(f.filename or "" for f in files)[:200],
                bytes=sum(p.stat().st_size for p in paths),
                title=info.title,
            )
    else:
        for saved in paths:
            saved.unlink()  # a concurrent copy of the same request won the race; keep one set of files
    return job, made


def _save(files: list[FileStorage]) -> list[Path]:
    """The files under <home>/uploads/ with random names; on any failure none of them is left behind."""
    folder = uploads_dir(settings())
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for file in files:
        suffix = SUFFIX.search(file.filename or "")
        path = folder / (secrets.token_hex(16) + (f".{suffix.group(1).lower()}" if suffix else ""))
        try:
            file.save(path)  # copies the spooled body in chunks
        except OSError as error:  # a full disk: no partial file left behind
            path.unlink(missing_ok=True)
            for saved in paths:
                saved.unlink()
            log.error("upload of %s failed: %s", file.filename, error)
            message = f"{file.filename} could not be saved (the server's disk may be full): nothing was stored."
            raise UploadRefused(message, 507) from None
        paths.append(path)
        if path.stat().st_size == 0:
            for saved in paths:
                saved.unlink()
            raise UploadRefused(f"{file.filename} is empty: nothing was stored.")
    return paths


def check(values: dict[str, str]) -> tuple[MeetingInfo, str, str, tuple[str, ...], str]:
    if not KEY.match(values["key"]):
        raise InvalidInput("The form is missing its key: reload the page and try again.")
    for name, words in (("body", "the public body"), ("title", "a title"), ("date", "the meeting's date")):
        if not values[name]:
            raise InvalidInput(f"Give {words}.")
    if len(values["body"]) > 300 or len(values["title"]) > 500:
        raise InvalidInput("The body's name may have 300 characters and the title 500.")
    try:
        date = dt.date.fromisoformat(values["date"])
    except ValueError:
        raise InvalidInput(f"The date {values['date']!r} is not a date in the form YYYY-MM-DD.") from None
    for name in ("source_url", "agenda_url"):
        if values[name] and (len(values[name]) > 2000 or not WEB_ADDRESS.match(values[name])):
            raise InvalidInput(f"The {name.replace('_url', '')} address must be an http:// or https:// address.")
    engine = values["engine"] or settings().engine
    if engine not in ENGINES:
        raise InvalidInput(f"The engine must be one of: {', '.join(ENGINES)}.")
    if len(values["languages"]) > 100:
        raise InvalidInput("The languages are a few codes such as en,es.")
    try:  # refuses unknown codes, and an English-only model for other languages, in one sentence
        chosen = settings().for_languages(values["languages"] or None)
        model = values["model"] or chosen.model
        chosen.with_model(model)
    except InvalidInput as error:
        message = str(error).replace("TESTIMONY_LANGUAGES", "Languages").replace("TESTIMONY_MODEL", "Model")
        raise InvalidInput(message) from None
    if len(model) > 200 or not re.fullmatch(r"[A-Za-z0-9._-]+", model):
        raise InvalidInput("The model is a name such as tiny.en or base.en.")
    info = MeetingInfo(
        body=values["body"],
        title=values["title"],
        date=date,
        source_url=values["source_url"] or None,
        agenda_url=values["agenda_url"] or None,
    )
    return info, engine, model, chosen.languages, values["key"]


def layout(values: dict[str, str], names: list[str]) -> bool:
    """Whether the files are simultaneous tracks, after checking they fit the layout chosen."""
    chosen = values["layout"] = values["layout"] or "one"
    if chosen not in LAYOUTS:
        raise InvalidInput(f"The recordings are one of: {', '.join(LAYOUTS)}.")
    if chosen == "tracks":
        if not 2 <= len(names) <= MAX_TRACKS:
            raise InvalidInput(f"Simultaneous tracks: choose from 2 to {MAX_TRACKS} files, one per participant.")
        if len(set(names)) < len(names):
            raise InvalidInput("Two tracks have the same file name; rename one so each can be told apart.")
        return True
    if len(names) != 1:
        raise InvalidInput("Choose one recording, or say the files are simultaneous tracks.")
    return False
