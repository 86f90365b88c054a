"""The Flask application: settings, a database session per request, the search backend, blueprints."""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from archive.config import Settings
from archive.errors import ArchiveError, InvalidInput, NotFound
from archive.home import open_home
from archive.search.index import open_backend


def build_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask("archive.web")
    app.config["TESTIMONY"] = settings
    app.extensions["sessions"] = open_home(settings)
    # One backend object per process: it keeps the index open and reopens it after a swap.
    app.extensions["search"] = open_backend(settings)

    from archive.web.api import api
    from archive.web.excerpt_media import excerpt_media
    from archive.web.pages import pages

    app.register_blueprint(api)
    app.register_blueprint(excerpt_media)  # clips and quote cards
    app.register_blueprint(pages)

    @app.teardown_appcontext
    def close_session(_error: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    # The API answers in JSON, the pages in HTML; the same errors, each turned into words once.
    def answer(message: str, status: int):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return jsonify(error=message), status
        return render_template("error.html", message=message, status=status), status

    @app.errorhandler(InvalidInput)
    def invalid(error: InvalidInput):  # type: ignore[no-untyped-def]
        return answer(str(error), 400)

    @app.errorhandler(NotFound)
    def not_found(error: NotFound):  # type: ignore[no-untyped-def]
        return answer(str(error), 404)

    @app.errorhandler(ArchiveError)
    def archive_error(error: ArchiveError):  # type: ignore[no-untyped-def]
        return answer(str(error), 503)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        return answer(error.description or error.name, error.code or 500)

    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Everything is served from here: no inline scripts, no third-party requests.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        )
        return response

    return app
