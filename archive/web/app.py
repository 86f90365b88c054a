"""The Flask application: settings, a database session per request, the search backend, blueprints."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import weakref
from pathlib import Path

from flask import Flask, Response, g, has_request_context, jsonify, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound as NotFoundPage

from archive.config import Settings
from archive.errors import ArchiveError, InvalidInput, NotFound
from archive.home import open_home
from archive.search.sync import backend_of
from archive.web import languages, limits, templating
from archive.web.admin.auth import auth
from archive.web.admin.campaigns import admin_campaigns
from archive.web.admin.curation import curation_pages
from archive.web.admin.overlaps import overlap_pages
from archive.web.admin.privacy import privacy_pages
from archive.web.admin.speakers import admin_speakers
from archive.web.admin.uploads import uploads
from archive.web.api.campaigns import campaigns_api
from archive.web.api.excerpts import excerpt_api
from archive.web.api.legislators import legislators_api
from archive.web.api.meetings import meetings_api
from archive.web.context import localized
from archive.web.page_cache import PageStore, new_pages_folder
from archive.web.public.campaigns import campaigns
from archive.web.public.excerpt_media import excerpt_media
from archive.web.public.excerpt_video import excerpt_video_page
from archive.web.public.excerpts import excerpts
from archive.web.public.feeds import feeds
from archive.web.public.follows import follows
from archive.web.public.follows import stop as unsubscribe_link
from archive.web.public.legislators import legislators
from archive.web.public.pages import pages
from archive.web.public.share_cards import share_cards


def build_app(settings: Settings | None = None, pages_folder: Path | None = None) -> Flask:
    """pages_folder: where kept pages are shared with the server's other processes; None: a folder of this
    app's own, removed with it."""
    settings = settings or Settings.from_env()
    app = Flask("archive.web")
    app.config["TESTIMONY"] = settings
    app.extensions["sessions"] = open_home(settings)
    # One backend object per process: it keeps the index open and reopens it after a swap; the sessions' commits
    # index into it (archive.search.sync).
    app.extensions["search"] = backend_of(app.extensions["sessions"])
    if settings.page_cache_mb > 0:
        if pages_folder is None:
            pages_folder = new_pages_folder()
            weakref.finalize(app, shutil.rmtree, pages_folder, True)  # removed when the app goes
        app.extensions["page_cache"] = PageStore(pages_folder, settings.page_cache_mb * 1024 * 1024)
    app.config.update(
        SECRET_KEY=settings.secret_key or stored_secret_key(settings.home),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure when the public address is https; SessionCookies also marks them so on any https request.
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        # The largest body of all (a curator's upload); each request gets its own limit (archive.web.limits).
        MAX_CONTENT_LENGTH=settings.upload_limit_mb * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=12 * 3600,  # a meeting page left open for a working day can still send its form
    )
    app.session_interface = SessionCookies()
    if settings.proxy_hops:
        # The client's address and scheme as the proxies in front saw them (only that many hops are trusted).
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    limits.install(app, settings)  # before CSRFProtect: its check reads the form
    # Every form POST needs the CSRF token ({{ csrf_token() }}); token-authenticated API views are exempted below.
    csrf = CSRFProtect(app)

    for blueprint in (
        meetings_api,  # /api/search, /api/meetings, /api/speakers, /api/openapi.json
        excerpt_api,  # /api/excerpts
        legislators_api,  # /api/legislators
        campaigns_api,  # /api/campaigns
        pages,  # /, /search, /meetings, /speakers
        excerpts,  # /excerpts/<slug>
        excerpt_media,  # clips and quote cards
        excerpt_video_page,  # /excerpts/<slug>/clip.mp4: the captioned video
        share_cards,  # /meetings/<slug>/card.png, /card.png: the other pages' og:image
        feeds,  # embeds, oEmbed, Atom, the sitemap, downloads
        legislators,  # /legislators
        campaigns,  # /campaigns/…
        follows,  # /follow/…: a search, a body or a speaker by email
        auth,  # /login, /logout, /account, /admin, /admin/users, /admin/audit
        admin_campaigns,  # /admin/campaigns/…
        uploads,  # /admin/upload, /admin/jobs
        curation_pages,  # /admin/meetings, /admin/segments, /admin/revisions: corrections
        overlap_pages,  # /admin/overlaps, /admin/meetings/<slug>/lines: overlapping speech
        admin_speakers,  # /admin/meetings/<slug>/speakers, /admin/people: voices and review
        privacy_pages,  # /admin/privacy, /admin/meetings/<slug>/privacy: consent, redactions
    ):
        app.register_blueprint(blueprint)
    csrf.exempt(excerpt_api)
    # POST /api/meetings checks its CSRF token itself, after the sign-in check: a caller not signed in hears 401.
    csrf.exempt("archive.web.api.meetings.upload_meeting")
    # A signed link is the authority here: mail programs' one-click unsubscribe POSTs carry no CSRF token.
    csrf.exempt(unsubscribe_link)  # authenticated by Authorization: Bearer, which no other site can make a browser send
    templating.register(app)
    languages.install(app)  # the visitor's language, its switch, and Vary on every page

    @app.before_request
    def refuse_empty_api_parameters() -> None:
        # An empty parameter is a mistake the API names, never one it reads as "not given" (docs/api.md).
        if request.path.startswith("/api/"):
            given = list(request.args.items(multi=True))
            empty = sorted({name for name, value in given if not value.strip()})
            if empty == ["q"]:  # the words to search for: what they are for, not how to leave them out
                raise InvalidInput('q: type a word or a "quoted phrase" to search')
            if empty:
                raise InvalidInput(f"{', '.join(empty)}: empty; give a value or leave the parameter out")
            control = sorted({name for name, value in given if any(ord(c) < 32 for c in value)})
            if control:
                raise InvalidInput(f"{', '.join(control)}: must not contain control characters")

    @app.teardown_appcontext
    def close_session(_error: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    # The API answers in JSON, the pages in HTML; the same errors, each turned into words once.
    def answer(message: str, status: int) -> ResponseReturnValue:
        if request.path.startswith("/api/"):
            return jsonify(error=message), status
        return render_template("error.html", message=message, status=status), status

    @app.errorhandler(InvalidInput)
    def invalid(error: InvalidInput) -> ResponseReturnValue:
        return answer(localized(error), 400)

    @app.errorhandler(NotFound)
    def not_found(error: NotFound) -> ResponseReturnValue:
        return answer(localized(error), 404)

    @app.errorhandler(ArchiveError)
    def archive_error(error: ArchiveError) -> ResponseReturnValue:
        return answer(localized(error), 503)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        return answer(
            gettext(
                "The form could not be accepted (%(reason)s): reload the page and send it again.",
                reason=error.description.rstrip(".").lower(),  # Flask-WTF's words, in English
            ),
            400,
        )

    @app.errorhandler(413)
    def too_large(_error: HTTPException) -> ResponseReturnValue:
        return answer(limits.too_large_message(settings), 413)

    @app.errorhandler(414)
    def address_too_long(_error: HTTPException) -> ResponseReturnValue:
        return answer(limits.address_too_long(), 414)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        message = error.description or error.name
        if error.code == 404 and message == NotFoundPage.description:
            message = gettext("There is nothing at this address. Check it, or search the archive.")  # Werkzeug's
        response = app.make_response(answer(message, error.code or 500))
        # The error's own headers are part of the answer: a 405's Allow (RFC 9110), a 401's WWW-Authenticate.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if settings.public_url.startswith("https://"):  # browsers then never try the site over plain http again
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        # Framing is forbidden everywhere but on views marked @frameable (the embeddable player): the one switch.
        embeddable = getattr(app.view_functions.get(request.endpoint or ""), "frameable", False)
        if not embeddable:
            response.headers.setdefault("X-Frame-Options", "DENY")
        # Everything is served from here: no inline scripts, no third-party requests.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; "
            + ("frame-ancestors *" if embeddable else "frame-ancestors 'none'"),
        )
        return response

    return app


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, marked Secure when the site is public over https or this request is https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def stored_secret_key(home: Path) -> str:
    """The key in <home>/.secret_key, made once (random, mode 0600, written atomically) when there is none."""
    path = home / ".secret_key"
    if path.exists():
        key = path.read_text(encoding="ascii").strip()
        if not key:
            raise ArchiveError(f"{path} is empty: delete it and a new key is made (signed-in forms start afresh)")
        return key
    key = secrets.token_hex(32)
    descriptor, temporary = tempfile.mkstemp(dir=home, prefix=".secret_key.")  # mkstemp: mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(key + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)  # atomic, and never replaces a key another process made first
        except FileExistsError:
            return path.read_text(encoding="ascii").strip()
        except OSError:  # a file system without hard links
            os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    directory = os.open(home, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return key
