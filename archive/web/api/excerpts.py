"""Excerpts in the API: GET /api/excerpts (newest first), GET /api/excerpts/<slug>, and POST /api/excerpts
(authenticated by the editor token, so exempt from CSRF: see archive.web.app)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from archive.db.lookups import meeting_by_slug
from archive.errors import InvalidInput
from archive.publish.documents import excerpt_documents, excerpt_query
from archive.web.context import absolute_url, db, page_from
from archive.web.excerpt_input import KEY, Refused, check_token, document_with_citations, make

# Its POST is authenticated by the editor token (Authorization: Bearer), so app.py exempts it from CSRF.
excerpt_api = Blueprint("excerpt_api", __name__, url_prefix="/api")


@excerpt_api.get("/excerpts/<slug>")
def get_excerpt(slug: str) -> ResponseReturnValue:
    return jsonify(document_with_citations(slug))


@excerpt_api.post("/excerpts")
def post_excerpt() -> ResponseReturnValue:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    try:
        check_token(token.strip() if scheme.lower() == "bearer" else None)
    except Refused as error:
        response = jsonify(error=str(error))
        response.status_code = error.status
        if error.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="excerpts"'
        return response
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise InvalidInput('send a JSON object: {"meeting", "start", "end", "title", "note"}')
    key = request.headers.get("Idempotency-Key")
    if key is not None and not KEY.match(key):
        raise InvalidInput("Idempotency-Key must be 16 to 64 letters, digits, - or _")
    meeting = payload.get("meeting")
    if not isinstance(meeting, str) or not meeting:
        raise InvalidInput("meeting: give the meeting's slug")
    meeting_by_slug(db(), meeting)  # a 404 that names the slug, like every other lookup of a meeting
    made, new = make(
        meeting,
        payload.get("start"),
        payload.get("end"),
        payload.get("title"),
        payload.get("note"),
        key=key,
        created_by="api (editor token)",
    )
    response = jsonify(document_with_citations(made.slug))
    response.status_code = 201 if new else 200
    response.headers["Location"] = absolute_url(f"/excerpts/{made.slug}")
    return response


@excerpt_api.get("/excerpts")
def api_excerpts() -> ResponseReturnValue:
    page, per_page = page_from(request.args)
    meeting = (request.args.get("meeting") or "").strip() or None
    documents = excerpt_documents(db(), meeting_slug=meeting, offset=(page - 1) * per_page, limit=per_page)
    total = db().scalar(select(func.count()).select_from(excerpt_query(meeting).order_by(None).subquery()))
    return jsonify(total=total, page=page, per_page=per_page, excerpts=documents)
