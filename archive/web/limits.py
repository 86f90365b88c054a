"""Limits before work: a request's address, body and record ids are checked before any view, form or CSRF check
reads it, so a hostile request costs a few microseconds, not a parse of what it sent.

- The body: large only for a signed-in curator's upload (`upload_limit_mb`), `form_limit_kb` everywhere else;
  a declared Content-Length over it is a 413 before one byte is read, and a chunked body is cut off (413) where
  it passes it (Werkzeug's limited stream).
- The address: a query string over MAX_QUERY_BYTES is a 414 with a sentence (gunicorn refuses longer request
  lines itself; the development server and other servers do not).
- Record ids in URLs (`<int:…>`) above the databases' 64-bit integers are a 404, not an overflow.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Flask, abort, g, request
from flask_babel import format_number, gettext
from werkzeug.routing import IntegerConverter

from archive.config import Settings
from archive.search import MAX_QUERY_CHARACTERS
from archive.web.context import current_user

# gunicorn's largest finite request line is 8,190 bytes (archive.web.server): a query string that long reaches
# no view there; here the same limit holds under any server.
MAX_QUERY_BYTES = 8190
LARGEST_ID = 2**63 - 1  # BIGINT on PostgreSQL, INTEGER on SQLite

# Who may send a recording, and the views that take one; every other view takes at most form_limit_kb.
UPLOAD_ROLES = ("curator", "admin")
UPLOAD_VIEWS = {"uploads.upload": UPLOAD_ROLES, "api.upload_meeting": UPLOAD_ROLES}


class RecordId(IntegerConverter):
    """`<int:…>` in a route: a whole number no database id can exceed (a larger one matches no route: 404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)


def body_limit(settings: Settings) -> int:
    """The largest body this request may send, in bytes."""
    roles = UPLOAD_VIEWS.get(request.endpoint or "")
    if roles and request.method == "POST":
        user = current_user()  # from the session cookie: nothing of the body is read for it
        if user is not None and user.role in roles:
            return settings.upload_limit_mb * 1024 * 1024
    return settings.form_limit_kb * 1024


def install(app: Flask, settings: Settings) -> None:
    """Before the app registers its blueprints and CSRF protection (whose check reads the form): these run first."""
    app.url_map.converters["int"] = RecordId

    @app.before_request
    def limit_request() -> None:
        if len(request.query_string) > MAX_QUERY_BYTES:
            abort(414)
        limit = g.body_limit = body_limit(settings)
        request.max_content_length = limit  # a streamed upload is cut off where it passes the limit (a 413)
        if request.content_length is not None and request.content_length > limit:
            abort(413)
        if request.content_length is None and limit <= settings.form_limit_kb * 1024 and _chunked():
            _buffer_small_body(limit)
        if request.routing_exception is None and request.mimetype == "multipart/form-data" and _nameless_part():
            # Flask-WTF's CSRF check calls str methods on every field name: a part without one would be a 500.
            abort(400, description=gettext("Each part of a form needs a name: nothing was stored."))


def _nameless_part() -> bool:
    return any(not isinstance(name, str) for name in (*request.form.keys(), *request.files.keys()))


def _chunked() -> bool:
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _buffer_small_body(limit: int) -> None:
    """A chunked body, whose size nobody declared: read at most `limit` bytes of it, a 413 past that. (Werkzeug's
    limited stream would hand a form parser the first `limit` bytes as if they were the whole form.)"""
    source = request.environ["wsgi.input"]
    pieces, size = [], 0
    while piece := source.read(min(65536, limit + 1 - size)):
        pieces.append(piece)
        size += len(piece)
        if size > limit:
            abort(413)
    request.environ["wsgi.input"] = io.BytesIO(b"".join(pieces))


def too_large_message(settings: Settings) -> str:
    limit = g.get("body_limit", settings.upload_limit_mb * 1024 * 1024)
    size = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"
    return gettext("That is larger than this site accepts (%(size)s): nothing was stored.", size=size)


def address_too_long() -> str:
    return gettext(
        "That address is too long (more than %(bytes)s bytes after the question mark). A search uses its first"
        " %(characters)s characters: shorten it.",
        bytes=format_number(MAX_QUERY_BYTES),
        characters=MAX_QUERY_CHARACTERS,
    )
