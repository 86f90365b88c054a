"""Curators' uploads: /admin/upload stores a recording and queues its transcription; /admin/jobs shows progress.

The request only streams the file to <home>/uploads/ (Werkzeug spools a large body to a temporary file, never
to memory; MAX_CONTENT_LENGTH refuses an oversized one with a 413 before it is read) and queues a job: decoding,
storing and transcribing are the worker's. A form sent twice (its random key) queues one job.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from archive.accounts.users import record
from archive.config import ENGINES
from archive.db.models import Job
from archive.errors import InvalidInput, NotFound
from archive.ingest.pipeline import MeetingInfo
from archive.web.context import address, db, role_required, settings, signed_in
from archive.worker.jobs import progress_of, submit_upload, uploads_dir

uploads = Blueprint("uploads", __name__)
log = logging.getLogger(__name__)

KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
WEB_ADDRESS = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)
SUFFIX = re.compile(r"\.([A-Za-z0-9]{1,8})$")
FIELDS = ("body", "title", "date", "source_url", "agenda_url", "engine", "model", "layout", "languages")
# How the files make one meeting: one recording, simultaneous tracks (a file per person), a track per channel.
LAYOUTS = ("one", "tracks", "channels")
MAX_TRACKS = 32


def _form_page(values: dict[str, str], error: str | None = None, status: int = 200) -> ResponseReturnValue:
    current = settings()
    return (
        render_template(
            "admin/upload.html",
            values=values,
            error=error,
            key=values.get("key") or secrets.token_urlsafe(24),
            engines=ENGINES,
            default_engine=current.engine,
            default_model=current.model,
            default_languages=",".join(current.languages),
            limit_mb=current.upload_limit_mb,
        ),
        status,
    )


@uploads.get("/admin/upload")
@role_required("curator")
def upload_form() -> ResponseReturnValue:
    """Upload a recording: store it and transcribe it in the background."""
    return _form_page({})


@uploads.post("/admin/upload")
@role_required("curator")
def upload() -> ResponseReturnValue:
    values = {name: (request.form.get(name) or "").strip() for name in (*FIELDS, "key")}
    try:
        info, engine, model, languages, key = _check(values)
    except InvalidInput as error:
        return _form_page(values, str(error), 400)
    session = db()
    earlier = session.scalar(select(Job).where(Job.idempotency_key == key))
    if earlier is not None:  # the same form again (a double click, the back button): its job
        return redirect(url_for("uploads.job_page", job_id=earlier.id), 303)
    files = [f for f in request.files.getlist("recording") if f.filename]
    if not files:
        return _form_page(values, "Choose the recording to upload.", 400)
    try:
        tracks = _layout(values, [f.filename or "" for f in files])
    except InvalidInput as error:
        return _form_page(values, str(error), 400)
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
            return _form_page(values, message, 507)
        paths.append(path)
        if path.stat().st_size == 0:
            for saved in paths:
                saved.unlink()
            return _form_page(values, f"{file.filename} is empty: nothing was stored.", 400)
    path = paths[0]
    user = signed_in()
    job, made = submit_upload(
        current_app.extensions["sessions"],
        settings(),
        path,
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
            saved.unlink()  # a concurrent copy of the same form won the race; keep one set of files
    return redirect(url_for("uploads.job_page", job_id=job.id), 303)


def _check(values: dict[str, str]) -> tuple[MeetingInfo, str, str, tuple[str, ...], str]:
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


def _layout(values: dict[str, str], names: list[str]) -> bool:
    """Whether the files are simultaneous tracks, after checking they fit the layout chosen."""
    layout = values["layout"] = values["layout"] or "one"
    if layout not in LAYOUTS:
        raise InvalidInput(f"The recordings are one of: {', '.join(LAYOUTS)}.")
    if layout == "tracks":
        if not 2 <= len(names) <= MAX_TRACKS:
            raise InvalidInput(f"Simultaneous tracks: choose from 2 to {MAX_TRACKS} files, one per participant.")
        if len(set(names)) < len(names):
            raise InvalidInput("Two tracks have the same file name; rename one so each can be told apart.")
        return True
    if len(names) != 1:
        raise InvalidInput("Choose one recording, or say the files are simultaneous tracks.")
    return False


@uploads.get("/admin/jobs")
@role_required("curator")
def jobs_page() -> ResponseReturnValue:
    """Jobs: uploads and transcriptions, with their progress."""
    found = db().scalars(select(Job).order_by(Job.id.desc()).limit(100)).all()
    return render_template("admin/jobs.html", jobs=[(job, progress_of(job)) for job in found])


def _job(job_id: int) -> Job:
    job = db().get(Job, job_id)
    if job is None:
        raise NotFound(f"There is no job {job_id}.")
    return job


@uploads.get("/admin/jobs/<int:job_id>")
@role_required("curator")
def job_page(job_id: int) -> ResponseReturnValue:
    job = _job(job_id)
    return render_template("admin/job.html", job=job, state=progress_of(job))


@uploads.get("/admin/jobs/<int:job_id>.json")
@role_required("curator")
def job_state(job_id: int) -> ResponseReturnValue:
    """The job page's live progress (polled by static/job.js)."""
    state: dict[str, Any] = progress_of(_job(job_id))
    if state["meeting"] and state["status"] == "done":
        state["meeting_url"] = url_for("pages.meeting", slug=state["meeting"])
    response = jsonify(state)
    response.headers["Cache-Control"] = "no-store"
    return response
