"""The site's language for each visitor: the one they chose with the switch (a cookie), else their browser's
(`Accept-Language`), else English; and the switch itself (`/language/<code>`). Only the interface is
translated: transcripts, campaigns and letters stay as their authors wrote them (archive.locales)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import Babel, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from archive.errors import NotFound
from archive.locales import CATALOGS, LOCALE_NAMES, LOCALES, Text
from archive.web.context import locale

languages = Blueprint("languages", __name__)
COOKIE = "language"
NEXT_QUERY_LIMIT = 2000  # characters of the page's query the switch carries back (a search uses 500)
COOKIE_MAX_AGE = 365 * 24 * 3600  # a supporter who chose Spanish once is not asked again for a year


def chosen_locale() -> str:
    """The visitor's language: the switch's cookie, else the best of their browser's languages, else English.
    The API answers programs: always in English."""
    if request.path.startswith("/api/"):
        return LOCALES[0]
    chosen = request.cookies.get(COOKIE, "")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES, default=LOCALES[0]) or LOCALES[0]


@languages.get("/language/<code>")
def choose(code: str) -> ResponseReturnValue:
    """The switch: remember the language in a cookie and go back to the page it was clicked on. A link, not a
    form: a form's CSRF token would keep every page out of the page cache; choosing a language harms nobody."""
    if code not in LOCALES:
        raise NotFound(Text("There is no such language here."))
    back = request.args.get("next", "")
    # Only a path on this site: never another site's address (//host or a backslash trick).
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = "/"
    response = redirect(back, 303)
    response.set_cookie(
        COOKIE,
        code,
        max_age=COOKIE_MAX_AGE,
        secure=current_app.config["SESSION_COOKIE_SECURE"] or request.is_secure,
        httponly=True,
        samesite="Lax",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def switch_links() -> list[dict[str, object]]:
    """The switch's links, for base.html: each language in its own words, back to this page."""
    query = urlencode(list(request.args.items(multi=True)))  # the arguments the view read (archive.web.page_cache)
    # An overlong address (a 414) is not echoed back twice: the switch then returns to the page without it.
    here = request.path + (f"?{query}" if query and len(query) <= NEXT_QUERY_LIMIT else "")
    return [{"code": code, "name": LOCALE_NAMES[code], "current": code == locale(), "next": here} for code in LOCALES]


def install(app: Flask) -> None:
    """Flask-Babel on the app (its gettext in templates), the switch, and the Vary header of every page."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(CATALOGS)
    app.config["BABEL_DEFAULT_LOCALE"] = LOCALES[0]
    Babel(app, locale_selector=chosen_locale)
    app.register_blueprint(languages)
    app.add_template_global(switch_links)
    app.add_template_global(locale, "current_locale")
    app.context_processor(translated_once)

    @app.after_request
    def vary_by_language(response: Response) -> Response:
        # A page's words depend on these two headers: a shared cache must not give a Spanish page to an English
        # visitor (nor the other way round).
        if response.mimetype == "text/html":
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
        return response


def translated_once() -> dict[str, Any]:
    """The template's gettext and ngettext with this page's catalog looked up once, when it starts rendering.

    Flask-Babel's template functions look the catalog up for every string (four look-ups in Flask's request
    context each): on a search page, with some sixty strings, that was a seventh of its CPU. These replace them in
    the page's own context, with Jinja's newstyle behaviour: the translation is a format string whose values are
    escaped. Macros imported without the context keep Flask-Babel's, which say the same.
    """
    catalog = get_translations()

    @pass_context
    def gettext(context: Context, string: str, /, **variables: Any) -> str:
        text = catalog.ugettext(string)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, num: int, /, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = catalog.ungettext(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    # `_` too: Jinja's own `_` would look `gettext` up in the context and call it, two calls a string.
    return {"gettext": gettext, "_": gettext, "ngettext": ngettext}
