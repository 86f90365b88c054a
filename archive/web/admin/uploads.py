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
FIELDS = ("body", "title", "date", "source_url", "agenda_url", "engine", "model")


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
        info, engine, model, key = _check(values)
    except InvalidInput as error:
        return _form_page(values, str(error), 400)
    session = db()
    earlier = session.scalar(select(Job).where(Job.idempotency_key == key))
    if earlier is not None:  # the same form again (a double click, the back button): its job
        return redirect(url_for("uploads.job_page", job_id=earlier.id), 303)
    file = request.files.get("recording")
    if file is None or not file.filename:
        return _form_page(values, "Choose the recording to upload.", 400)
    suffix = SUFFIX.search(file.filename)
    folder = uploads_dir(settings())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (secrets.token_hex(16) + (f".{suffix.group(1).lower()}" if suffix else ""))
    try:
        file.save(path)  # copies the spooled body in chunks
    except OSError as error:  # a full disk: no partial file left behind
        path.unlink(missing_ok=True)
        log.error("upload of %s failed: %s", file.filename, error)
        return _form_page(
            values, f"{file.filename} could not be saved (the server's disk may be full): nothing was stored.", 507
        )
    if path.stat().st_size == 0:
        path.unlink()
        return _form_page(values, f"{file.filename} is empty: nothing was stored.", 400)
    user = signed_in()
    job, made = submit_upload(
        current_app.extensions["sessions"],
        settings(),
        path,
        info,
        engine=engine,
        model=model,
        created_by=user.email,
        key=key,
    )
    if made:
        with current_app.extensions["sessions"]() as audit, audit.begin():
            record(
                audit,
                "upload",
                user=user,
                target=f"job {job.id}",
                address=address(),
                file=file.filename[:200],
                bytes=path.stat().st_size,
                title=info.title,
            )
    else:
        path.unlink()  # a concurrent copy of the same form won the race; keep one file
    return redirect(url_for("uploads.job_page", job_id=job.id), 303)


def _check(values: dict[str, str]) -> tuple[MeetingInfo, str, str, str]:
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
    model = values["model"] or settings().model
    if len(model) > 200 or not re.fullmatch(r"[A-Za-z0-9._-]+", model):
        raise InvalidInput("The model is a name such as tiny.en or base.en.")
    info = MeetingInfo(
        body=values["body"],
        title=values["title"],
        date=date,
        source_url=values["source_url"] or None,
        agenda_url=values["agenda_url"] or None,
    )
    return info, engine, model, values["key"]


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
