"""Excerpts on the site: the form on the meeting page, the excerpt page, and GET/POST /api/excerpts.

A signed-in user (any role) makes excerpts on the site as themselves; anyone else needs the editor token
(settings.editor_token), compared in constant time; with no token configured only signed-in users can. Forms
carry a CSRF token (Flask-WTF, set up in app.py) and a random idempotency key, so a form sent twice makes one
excerpt; the API is authenticated by a Bearer token instead and is exempt from CSRF.
"""

from __future__ import annotations

import datetime as dt
import hmac
import math
import re
import secrets
from typing import Any
from urllib.parse import quote as url_quote
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, jsonify, make_response, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from archive.db.models import Excerpt, Meeting
from archive.errors import InvalidInput
from archive.excerpts.citations import LABELS, citations
from archive.excerpts.manage import create_excerpt, excerpt_document, find_excerpt
from archive.timecodes import format_clock, parse_clock
from archive.web.api import db
from archive.web.auth import current_user

excerpts = Blueprint("excerpts", __name__)
# The token-authenticated half, registered apart so app.py can exempt exactly it from CSRF.
excerpt_api = Blueprint("excerpt_api", __name__, url_prefix="/api")

KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
DESCRIPTION_LENGTH = 300  # og:description: the quote, shortened where a preview would cut it anyway


class Refused(Exception):
    """The editor token is missing, wrong, or making excerpts is switched off."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def public_base() -> str:
    """The site's address for links that leave it (citations, share links, meta): the setting, else the request's."""
    return (current_app.config["TESTIMONY"].public_url or request.host_url).rstrip("/")


@excerpts.app_template_global("absolute_url")
def absolute_url(path: str) -> str:
    return public_base() + path


@excerpts.app_template_filter("long_date")
def long_date(iso: str) -> str:
    """'2024-02-07' → '7 February 2024', as the meeting pages write dates."""
    day = dt.date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


@excerpts.app_template_global("excerpt_form")
def excerpt_form() -> dict[str, Any]:
    """The meeting page's excerpt form: offered to signed-in users, or to anyone when an editor token is configured
    (who must then type it); refilled after an error."""
    state = g.get("excerpt_form") or {}
    signed_in = current_user() is not None
    return {
        "enabled": signed_in or bool(current_app.config["TESTIMONY"].editor_token),
        "signed_in": signed_in,
        "values": state.get("values", {}),
        "error": state.get("error"),
        "key": state.get("key") or secrets.token_urlsafe(24),
    }


def check_token(given: str | None) -> None:
    expected = current_app.config["TESTIMONY"].editor_token
    if not expected:
        raise Refused(
            "Making excerpts is switched off on this site: no editor token is configured (TESTIMONY_EDITOR_TOKEN).",
            403,
        )
    if not given:
        raise Refused("Give the editor token to make an excerpt.", 401)
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise Refused("That editor token is not right; nothing was saved.", 403)


def _time(value: Any, name: str) -> float:
    """Seconds from a form or JSON value: a number, or text as seconds or h:mm:ss."""
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidInput(f"{name}: give a time (seconds or h:mm:ss)")
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds) or seconds < 0:
            raise InvalidInput(f"{name}: {value!r} is not a time")
        return seconds
    if isinstance(value, str):
        try:
            return parse_clock(value)
        except InvalidInput as error:
            raise InvalidInput(f"{name}: {error}") from None
    raise InvalidInput(f"{name}: give a time (seconds or h:mm:ss)")


def _text(value: Any, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidInput(f"{name} must be text")


def _by_key(key: str | None) -> Excerpt | None:
    if not key:
        return None
    return db().scalar(select(Excerpt).where(Excerpt.idempotency_key == key))


def make(
    meeting: str, start: Any, end: Any, title: Any, note: Any, *, key: str | None, created_by: str
) -> tuple[Excerpt, bool]:
    """The one path from input to a stored excerpt: (excerpt, made now); a known key returns its excerpt."""
    session = db()
    earlier = _by_key(key)
    if earlier is not None:
        return earlier, False
    try:
        excerpt = create_excerpt(
            session,
            meeting,
            _time(start, "start"),
            _time(end, "end"),
            _text(title, "title") or "",
            note=_text(note, "note"),
            created_by=created_by,
        )
        excerpt.idempotency_key = key
        session.commit()
    except IntegrityError:
        # The same key committed by a concurrent request (a double click): that one is the excerpt.
        session.rollback()
        earlier = _by_key(key)
        if earlier is None:
            raise
        return earlier, False
    except Exception:
        session.rollback()
        raise
    return excerpt, True


# --- the form -------------------------------------------------------------------------------------------------


@excerpts.post("/excerpts")
def create():  # type: ignore[no-untyped-def]
    form = request.form
    slug = form.get("meeting", "")
    key = form.get("key", "")
    key = key if KEY.match(key) else None
    values = {name: form.get(name, "") for name in ("start", "end", "title", "note")}
    meeting_exists = db().scalar(select(Meeting.id).where(Meeting.slug == slug)) is not None
    user = current_user()  # a signed-in user (any role) needs no editor token
    try:
        if user is None:
            check_token(form.get("token"))
        if not meeting_exists:
            raise InvalidInput(f"no meeting with slug {slug!r}")
        excerpt, _ = make(slug, **values, key=key, created_by=user.email if user else "site (editor token)")
    except (Refused, InvalidInput) as error:
        # A form has no WWW-Authenticate challenge to answer: a missing token is refused like a wrong one.
        status = 403 if isinstance(error, Refused) else 400
        if not meeting_exists or not (user or current_app.config["TESTIMONY"].editor_token):
            return render_template("error.html", message=str(error), status=status), status
        # The meeting page again, its form open and refilled (never the token) with the reason.
        g.excerpt_form = {"values": values, "error": str(error), "key": key}
        page = current_app.view_functions["pages.meeting"](slug=slug)
        return make_response(page, status)
    return redirect(url_for("excerpts.excerpt", slug=excerpt.slug), 303)


# --- the excerpt page -------------------------------------------------------------------------------------------


def _document_with_citations(slug: str) -> dict[str, Any]:
    document = excerpt_document(db(), find_excerpt(db(), slug))
    settings = current_app.config["TESTIMONY"]
    accessed = dt.datetime.now(dt.UTC).date()
    document["citations"] = citations(document, base_url=public_base(), site_name=settings.site_name, accessed=accessed)
    return document


def _shorten(text: str, length: int) -> str:
    if len(text) <= length:
        return text
    return text[: length - 1].rsplit(" ", 1)[0] + "…"


@excerpts.get("/excerpts/<slug>")
def excerpt(slug: str):  # type: ignore[no-untyped-def]
    document = _document_with_citations(slug)
    settings = current_app.config["TESTIMONY"]
    page_url = absolute_url(f"/excerpts/{document['slug']}")
    context_url = absolute_url(document["context_url"])
    names = ", ".join(s["name"] for s in document["speakers"] if s["name"])
    attribution = f" — {names}" if names else ""
    meeting = document["meeting"]
    mail_body = (
        f"“{document['quote']}”{attribution}, {meeting['title']}, {meeting['body']}, {meeting['date']}\n\n"
        f"Hear it: {page_url}\nIn context: {context_url}\n"
    )
    return render_template(
        "excerpt.html",
        excerpt=document,
        labels=LABELS,
        site_name=settings.site_name,
        page_url=page_url,
        context_url=context_url,
        description=_shorten(document["quote"], DESCRIPTION_LENGTH),
        card_alt=_shorten(f"Quote card: “{document['quote']}”{attribution}", 420),
        mailto="mailto:?" + urlencode({"subject": document["title"], "body": mail_body}, quote_via=url_quote),
        verified_on=(
            dt.datetime.fromisoformat(document["verified"]["at"]).date()
            if document["verified"] and document["verified"]["at"]
            else None
        ),
        span=f"{format_clock(document['start'])}–{format_clock(document['end'])}",
    )


# --- the API ----------------------------------------------------------------------------------------------------


@excerpt_api.get("/excerpts/<slug>")
def get_excerpt(slug: str):  # type: ignore[no-untyped-def]
    return jsonify(_document_with_citations(slug))


@excerpt_api.post("/excerpts")
def post_excerpt():  # type: ignore[no-untyped-def]
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
    if db().scalar(select(Meeting.id).where(Meeting.slug == meeting)) is None:
        raise InvalidInput(f"meeting: no meeting with slug {meeting!r}")
    made, new = make(
        meeting,
        payload.get("start"),
        payload.get("end"),
        payload.get("title"),
        payload.get("note"),
        key=key,
        created_by="api (editor token)",
    )
    response = jsonify(_document_with_citations(made.slug))
    response.status_code = 201 if new else 200
    response.headers["Location"] = absolute_url(f"/excerpts/{made.slug}")
    return response
