"""The request's context, for every blueprint (flaskr's db.py): the database session, the settings, the search
backend, the site's address, who is signed in and what they may do, framing, and the parsing of arguments that
several views share. Blueprints import this module, never one another."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import abort, current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from sqlalchemy.orm import Session

from archive.accounts import users as accounts
from archive.config import Settings
from archive.db import version
from archive.db.models import SEGMENT_KINDS, User
from archive.errors import InvalidInput
from archive.locales import LOCALES, Text, say
from archive.media.store import MediaStore
from archive.search import PER_PAGE_MAX, SORTS, SearchPage, SearchRequest, index, linked
from archive.search.index import SearchBackend

log = logging.getLogger(__name__)


def locale() -> str:
    """The visitor's language ("en", "es"), as archive.web.languages chose it for this request."""
    return str(get_locale() or LOCALES[0])


def localized(error: BaseException) -> str:
    """An error's words in the visitor's language: its message when the domain wrote it as a Text."""
    message = error.args[0] if len(error.args) == 1 and isinstance(error.args[0], Text) else error
    return say(message, locale())


def db() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["sessions"]()
    return g.db


def content_version() -> int:
    """The archive's content_version (archive.db.version), read once per request: the first thing it reads, so
    everything read after it is at least that new."""
    if "content_version" not in g:
        g.content_version = version.current(db())
    number: int = g.content_version
    return number


def page_from(args: Mapping[str, str], per_page: int = 50) -> tuple[int, int]:
    """The page and page size of a listing; a 400 that names the parameter when they are not numbers."""
    return _whole(args, "page", 1, 1, 10_000), _whole(args, "per_page", per_page, 1, PER_PAGE_MAX)


# The arguments search_request_from reads: a kept search (archive.web.page_cache) is keyed by these alone.
SEARCH_ARGUMENTS = ("q", "speaker", "kind", "meeting", "body", "lang", "from", "to", "sort", "page", "per_page")


def search_request_from(args: Mapping[str, str]) -> SearchRequest:
    """Validate query parameters; each problem is a 400 that names the parameter."""
    q = args.get("q", "")
    filters = {name: (args.get(name) or "").strip() or None for name in ("speaker", "kind", "meeting", "body", "lang")}
    if not q.strip() and not any(filters.values()) and not (args.get("from") or args.get("to")):
        raise InvalidInput(Text('q: type a word or a "quoted phrase" to search'))
    if filters["kind"] and filters["kind"] not in SEGMENT_KINDS:
        raise InvalidInput(Text("kind must be one of: %(kinds)s", kinds=", ".join(SEGMENT_KINDS)))
    language = filters.pop("lang")
    if language and not re.fullmatch(r"[a-z]{2}", language.lower()):
        raise InvalidInput(Text("lang must be a two-letter language code (en, es)"))
    sort = args.get("sort", "relevance")
    if sort not in SORTS:
        raise InvalidInput(Text("sort must be one of: %(sorts)s", sorts=", ".join(SORTS)))
    return SearchRequest(
        q=q,
        date_from=_date(args, "from"),
        date_to=_date(args, "to"),
        sort=sort,
        page=_whole(args, "page", 1, 1, 10_000),
        per_page=_whole(args, "per_page", 20, 1, PER_PAGE_MAX),
        language=language.lower() if language else None,
        **filters,
    )


def _date(args: Mapping[str, str], name: str) -> dt.date | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(Text("%(name)s must be a date in the form YYYY-MM-DD", name=name)) from None


def _whole(args: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(Text("%(name)s must be a whole number", name=name)) from None
    if not low <= number <= high:
        bounds = {"low": str(low), "high": str(high)}  # as typed in an address: no digit grouping
        raise InvalidInput(Text("%(name)s must be between %(low)s and %(high)s", name=name, **bounds))
    return number


def run_search(search_request: SearchRequest) -> SearchPage:
    """The app's backend answers; a missing or unreadable index is IndexUnavailable (a 503: run testimony
    reindex), unless the archive has nothing to find yet (archive.search.index.search)."""
    return index.search(search_backend(), db(), search_request, linked=confirmed_links())


def confirmed_links() -> bool:
    """Whether any interpretation link is confirmed (archive.search.linked), asked of the database again only when
    content_version has changed (confirming a link changes it): most archives have none, and then a page of hits
    needs no query for its linked lines (a twentieth of a search page's CPU)."""
    current = content_version()
    kept: tuple[int, bool] | None = current_app.extensions.get("confirmed_links")
    if kept is None or kept[0] != current:
        kept = current_app.extensions["confirmed_links"] = (current, linked.any_confirmed(db()))
    return kept[1]


MISSING_MEDIA = (
    "This recording's file is missing from the archive. The people who run the site can restore it from a"
    " backup: `testimony check` lists it."
)


def stored_media(sha256: str, suffix: str) -> Path:
    """A recording's stored file; a 503 with a sentence (and an error in the log) when it is gone."""
    path = MediaStore(settings().media_dir).path_for(sha256, suffix)
    if not path.is_file():
        log.error("missing media file %s: restore it from a backup (testimony check lists it)", path)
        abort(503, MISSING_MEDIA)
    return path


def search_backend() -> SearchBackend:
    """The app's search backend: one per process, kept open (the sessions' commits index into it)."""
    backend: SearchBackend = current_app.extensions["search"]
    return backend


TOKEN_KEY = "account"  # the Flask session key of the sign-in token


def settings() -> Settings:
    return current_app.config["TESTIMONY"]


def address() -> str | None:
    return request.remote_addr


def current_user() -> User | None:
    """The signed-in user of this request (cached on flask.g), or None."""
    if "user" not in g:
        g.user = _load_user()
    return g.user


def signed_in() -> User:
    """The user of a view behind role_required, which has already turned away everyone not signed in."""
    user = current_user()
    if user is None:  # only a view without role_required could get here: a programming error, not a visitor
        raise RuntimeError("signed_in() is for views behind role_required")
    return user


def _load_user() -> User | None:
    token = session.get(TOKEN_KEY)
    if not token:
        return None
    row = accounts.session_for(db(), token)
    if row is None:
        return None
    if accounts.needs_slide(row):
        # Its own short transaction, so a view's uncommitted work is never committed by a look at the user.
        with current_app.extensions["sessions"]() as other, other.begin():
            accounts.slide(other, token, settings())
    return row.user


def needs_totp_setup(user: User) -> bool:
    return settings().admin_totp_required and user.role == "admin" and not user.totp_secret


def role_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only signed-in users with one of `roles` (admins always) reach the view; checked before it looks anything up."""
    for role in roles:
        accounts.check_role(role)
    allowed = {*roles, "admin"}

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            api = request.path.startswith("/api/")
            if user is None:
                if api:
                    return jsonify(error="sign in to use this"), 401
                return redirect(url_for("auth.login", next=_here()))
            if user.role not in allowed:
                message = f"Your account ({user.role}) may not use this page."
                if api:
                    return jsonify(error=message), 403
                return render_template("error.html", message=message, status=403), 403
            return view(*args, **kwargs)

        guarded.roles = roles  # type: ignore[attr-defined]
        return guarded

    return decorate


def _here() -> str:
    return request.full_path if request.query_string else request.path


def secret_key() -> str:
    """The key that signs the session cookie and the letter forms' timestamps (set by the app factory)."""
    key: str = current_app.config["SECRET_KEY"]
    return key


def site_url() -> str:
    """The site's address for links that leave it (citations, share links, meta): the setting, else the request's."""
    return (current_app.config["TESTIMONY"].public_url or request.host_url).rstrip("/")


def absolute_url(path: str) -> str:
    return site_url() + path


def frameable(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let other sites show this view in an iframe (frame-ancestors *, no X-Frame-Options); nothing else may."""
    view.frameable = True  # type: ignore[attr-defined]
    return view


def legislator_query() -> dict[str, Any]:
    """town, district (may repeat: one choice per chamber of a split town) and chamber, as given."""
    return {
        "town": (request.args.get("town") or "").strip() or None,
        "district": [name.strip() for name in request.args.getlist("district") if name.strip()],
        "chamber": (request.args.get("chamber") or "").strip() or None,
    }
