"""Excerpts on the site: the form on the meeting page, the excerpt page, and GET/POST /api/excerpts.

A signed-in user (any role) makes excerpts on the site as themselves; anyone else needs the editor token
(settings.editor_token), compared in constant time; with no token configured only signed-in users can. Forms
carry a CSRF token (Flask-WTF, set up in app.py) and a random idempotency key, so a form sent twice makes one
excerpt; the API is authenticated by a Bearer token instead and is exempt from CSRF.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote as url_quote
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy import select

from archive.db.lookups import meeting_by_slug
from archive.db.models import Meeting
from archive.errors import InvalidInput, NotFound
from archive.excerpts.cards import card_text
from archive.excerpts.citations import LABELS
from archive.excerpts.manage import ExcerptDocument
from archive.timecodes import format_clock
from archive.web.context import absolute_url, current_user, db, localized
from archive.web.excerpt_input import KEY, Refused, check_token, document_with_citations, make

excerpts = Blueprint("excerpts", __name__)

DESCRIPTION_LENGTH = 300  # og:description: the quote, shortened where a preview would cut it anyway


# --- the form -------------------------------------------------------------------------------------------------


@excerpts.post("/excerpts")
def create() -> ResponseReturnValue:
    form = request.form
    slug = form.get("meeting", "")
    given = form.get("key", "")
    key = given if KEY.match(given) else None
    values = {name: form.get(name, "") for name in ("start", "end", "title", "note")}
    meeting_exists = db().scalar(select(Meeting.id).where(Meeting.slug == slug)) is not None
    user = current_user()  # a signed-in user (any role) needs no editor token
    try:
        if user is None:
            check_token(form.get("token"))
        meeting_by_slug(db(), slug)  # NotFound (a 404) that names the slug
        excerpt, _ = make(slug, **values, key=key, created_by=user.email if user else "site (editor token)")
    except (Refused, InvalidInput, NotFound) as error:
        # A form has no WWW-Authenticate challenge to answer: a missing token is refused like a wrong one.
        status = 403 if isinstance(error, Refused) else 404 if isinstance(error, NotFound) else 400
        if not meeting_exists or not (user or current_app.config["TESTIMONY"].editor_token):
            return render_template("error.html", message=localized(error), status=status), status
        # The meeting page again, its form open and refilled (never the token) with the reason.
        g.excerpt_form = {"values": values, "error": localized(error), "key": key}
        page = current_app.view_functions["pages.meeting"](slug=slug)
        return make_response(page, status)
    return redirect(url_for("excerpts.excerpt", slug=excerpt.slug), 303)


# --- the excerpt page -------------------------------------------------------------------------------------------


def _shorten(text: str, length: int) -> str:
    if len(text) <= length:
        return text
    return text[: length - 1].rsplit(" ", 1)[0] + "…"


def _card_alt(document: ExcerptDocument, attribution: str, site_name: str) -> str:
    """The quote card's alt text: what it shows, the interpreter's words under the quote included."""
    card = card_text(document, site_name)
    if not card.interpretation:
        return _shorten(gettext("Quote card: “%(quote)s”", quote=document["quote"]) + attribution, 420)
    quoted = gettext("Quote card: “%(quote)s”", quote=_shorten(document["quote"], 200)) + attribution + "."
    return _shorten(f"{quoted} {card.interpretation_label} “{card.interpretation}”", 420)


def share_links(text: str, url: str, title: str) -> list[tuple[str, str]]:
    """(name, address) of each site's own "share" page, the post filled in: no script of theirs on ours."""
    both = f"{text} {url}"
    return [
        ("Bluesky", "https://bsky.app/intent/compose?" + urlencode({"text": both}, quote_via=url_quote)),
        # Share₂Fedi asks which Mastodon (or other fediverse) server the visitor posts from.
        ("Mastodon", "https://s2f.kytta.dev/?" + urlencode({"text": both}, quote_via=url_quote)),
        ("X", "https://x.com/intent/post?" + urlencode({"text": text, "url": url}, quote_via=url_quote)),
        ("Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}, quote_via=url_quote)),
    ]


@excerpts.get("/excerpts/<slug>")
def excerpt(slug: str) -> ResponseReturnValue:
    document = document_with_citations(slug)
    settings = current_app.config["TESTIMONY"]
    page_url = absolute_url(f"/excerpts/{document['slug']}")
    context_url = absolute_url(document["context_url"])
    names = ", ".join(s["name"] for s in document["speakers"] if s["name"])
    attribution = f" — {names}" if names else ""
    meeting = document["meeting"]
    mail_body = (
        f"“{document['quote']}”{attribution}, {meeting['title']}, {meeting['body']}, {meeting['date']}\n\n"
        + gettext("Hear it: %(page)s\nIn context: %(context)s\n", page=page_url, context=context_url)
    )
    post = f"“{_shorten(document['quote'], 200)}”{attribution}"
    return render_template(
        "public/excerpt.html",
        share_links=share_links(post, page_url, document["title"]),
        excerpt=document,
        labels=LABELS,
        site_name=settings.site_name,
        page_url=page_url,
        context_url=context_url,
        description=_shorten(document["quote"], DESCRIPTION_LENGTH),
        card_alt=_card_alt(document, attribution, settings.site_name),
        mailto="mailto:?" + urlencode({"subject": document["title"], "body": mail_body}, quote_via=url_quote),
        verified_on=(
            dt.datetime.fromisoformat(document["verified"]["at"]).date()
            if document["verified"] and document["verified"]["at"]
            else None
        ),
        span=f"{format_clock(document['start'])}–{format_clock(document['end'])}",
    )
