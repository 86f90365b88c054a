"""Curators' uploads: /admin/upload stores a recording and queues its transcription; /admin/jobs shows progress.

The form's fields and files are checked, saved and queued by archive.web.upload_input, as POST /api/meetings's are.
A form sent twice (its random key) queues one job.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from archive.config import ENGINES
from archive.db.models import Job
from archive.errors import NotFound
from archive.web.context import current_user, db, role_required, settings
from archive.web.limits import UPLOAD_ROLES
from archive.web.upload_input import FIELDS, UploadRefused, receive_upload
from archive.worker.jobs import progress_of

uploads = Blueprint("uploads", __name__)


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
        job, _ = receive_upload(values, request.files.getlist("recording"))
    except UploadRefused as refused:
        return _form_page(values, str(refused), refused.status)
    return redirect(url_for("uploads.job_page", job_id=job.id), 303)


@uploads.get("/may-upload")
def may_upload() -> ResponseReturnValue:
    """Asked by nginx before it reads a body sent to an upload address (deploy/nginx.conf, `auth_request`): 204 when
    this request may send a recording, 403 when it may not. So nginx refuses a stranger's gigabytes unread, and
    takes a curator's whole (to its disk, at the curator's pace) before passing it on at loopback speed: an upload
    never holds a server process while it arrives. Only a POST sends a recording; nginx names the method."""
    if request.headers.get("X-Original-Method", "POST") != "POST":
        return "", 204
    user = current_user()
    return "", 204 if user is not None and user.role in UPLOAD_ROLES else 403


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
