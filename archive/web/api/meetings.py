"""The archive in the API: search, meetings (and a recording uploaded as a new one), a person's record and the
OpenAPI description (PRODUCT.md §4)."""

from __future__ import annotations

import secrets

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from archive.db.models import Body, Meeting
from archive.errors import InvalidInput
from archive.privacy.view import redact_phrases, withheld_phrases
from archive.publish.documents import meeting_document
from archive.publish.people import person_record
from archive.web.api.openapi import document
from archive.web.context import (
    SEARCH_ARGUMENTS,
    absolute_url,
    db,
    page_from,
    role_required,
    run_search,
    search_request_from,
)
from archive.web.page_cache import kept_for_visitors
from archive.web.upload_input import FIELDS, KEY, UploadRefused, job_json, receive_upload

meetings_api = Blueprint("api", __name__, url_prefix="/api")


@meetings_api.get("/search")
@kept_for_visitors(uses_index=True, parameters=SEARCH_ARGUMENTS)
def search() -> ResponseReturnValue:
    # q is required here, as the description says; browsing by filters alone is the search page's (/search).
    if not (request.args.get("q") or "").strip():
        raise InvalidInput('q: type a word or a "quoted phrase" to search')
    search_request = search_request_from(request.args)
    page = run_search(search_request)
    return jsonify(page.to_json())


@meetings_api.get("/meetings")
def meetings() -> ResponseReturnValue:
    """Meetings, newest first, optionally of one body (by its slug), paginated."""
    page, per_page = page_from(request.args)
    query = select(Meeting).options(selectinload(Meeting.body), selectinload(Meeting.recordings))
    count = select(func.count(Meeting.id))
    body_slug = (request.args.get("body") or "").strip()
    if body_slug:
        query = query.join(Body).where(Body.slug == body_slug)
        count = count.join(Body).where(Body.slug == body_slug)
    found = (
        db()
        .scalars(query.order_by(Meeting.date.desc(), Meeting.id.desc()).offset((page - 1) * per_page).limit(per_page))
        .all()
    )
    phrases = withheld_phrases(db(), [m.id for m in found])
    return jsonify(
        total=db().scalar(count),
        page=page,
        per_page=per_page,
        meetings=[
            {
                "slug": m.slug,
                "title": redact_phrases(m.title, phrases.get(m.id, [])),
                "date": m.date.isoformat(),
                "body": m.body.name,
                "body_slug": m.body.slug,
                "duration": m.duration,
                "url": f"/meetings/{m.slug}",
            }
            for m in found
        ],
    )


@meetings_api.post("/meetings")
@role_required("curator")
def upload_meeting() -> ResponseReturnValue:
    """A recording for a new meeting, multipart with the upload form's fields (`recording`, `body`, `title`, `date`,
    `languages`…): checked, stored and queued by the same code as /admin/upload, under the same rules (a signed-in
    curator's session, the CSRF token in X-CSRFToken, the upload size limit). 202 with the job; an
    Idempotency-Key sent again answers 200 with the job it made."""
    # The upload form's CSRF check, here after the sign-in check (archive.web.app exempts this view from the
    # automatic one, which runs before any view): no token, a 400 naming it.
    current_app.extensions["csrf"].protect()
    key = request.headers.get("Idempotency-Key")
    if key is not None and not KEY.match(key):
        raise InvalidInput("Idempotency-Key must be 16 to 64 letters, digits, - or _")
    unknown = sorted((set(request.form) - set(FIELDS)) | (set(request.files) - {"recording"}))
    if unknown:  # a mistyped field ("language") would otherwise be dropped without a word
        raise InvalidInput(f"{unknown[0]}: not a field of this upload (recording, {', '.join(FIELDS)})")
    values = {name: (request.form.get(name) or "").strip() for name in FIELDS}
    try:
        job, made = receive_upload(
            {**values, "key": key or secrets.token_urlsafe(24)}, request.files.getlist("recording")
        )
    except UploadRefused as refused:
        return jsonify(error=str(refused)), refused.status
    answer = job_json(job.id)
    response = jsonify(answer)
    response.status_code = 202 if made else 200
    response.headers["Location"] = absolute_url(answer["url"])
    return response


@meetings_api.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(document())


@meetings_api.get("/meetings/<slug>")
@kept_for_visitors()
def meeting(slug: str) -> ResponseReturnValue:
    return jsonify(meeting_document(db(), slug))


@meetings_api.get("/speakers/<int:person_id>")
def speaker(person_id: int) -> ResponseReturnValue:
    page, per_page = page_from(request.args)
    return jsonify(person_record(db(), person_id, page, per_page))
