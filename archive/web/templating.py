"""What templates may call, registered in one place: template globals and filters for every blueprint's pages."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from typing import Any
from urllib.parse import quote_plus, urlencode

from babel import Locale
from flask import Flask, current_app, g, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from archive.campaigns.manage import campaigns_citing, open_campaigns
from archive.curation.agenda import agenda
from archive.db.models import Campaign, Meeting, Segment
from archive.excerpts.manage import find_excerpt
from archive.locales import long_date as long_date_in
from archive.locales import say as localized_text
from archive.mail.readiness import cached_mail_problem
from archive.privacy.view import (
    campaign_phrases,
    neutral_label,
    public_view,
    redact_phrases,
    speaker_colour,
    withheld_phrases,
)
from archive.timecodes import format_clock
from archive.web.context import absolute_url, current_user, db, locale, settings


# The home page and each excerpt's page list open campaigns; these feed them, so those views need not change.
def open_campaign_list() -> list[Campaign]:
    return open_campaigns(db())


def campaigns_citing_excerpt(slug: str) -> list[Campaign]:
    return campaigns_citing(db(), find_excerpt(db(), slug))


def agenda_items(meeting_id: int) -> list[dict[str, Any]]:
    """The meeting's chapters, in time order, as published: a withheld phrase is redacted in titles too."""
    items = agenda(db(), meeting_id)
    if not items:
        return []
    view = public_view(db(), db().get_one(Meeting, meeting_id))
    return [{"start": item.start, "title": view.redact_text(item.title)} for item in items]


def withheld() -> dict[int, list[str]]:
    """The phrases in force by meeting, read once per request (a page may list many meetings)."""
    if "withheld_phrases" not in g:
        g.withheld_phrases = withheld_phrases(db())
    return g.withheld_phrases


def public_title(meeting: Meeting) -> str:
    """A meeting's title as the public reads it (archive.privacy.view): a phrase withheld in it is "[redacted]"."""
    return redact_phrases(meeting.title, withheld().get(meeting.id, []))


def campaign_text(text: str | None, campaign: Campaign) -> str:
    """An organizer's text of a campaign (title, why) as the public reads it: a phrase withheld in a meeting the
    campaign cites is withheld here too (archive.privacy.view.campaign_phrases)."""
    known: dict[int, list[str]] = g.setdefault("campaign_phrases", {})
    if campaign.id not in known:
        known[campaign.id] = campaign_phrases(db(), campaign.id)
    return redact_phrases(text or "", known[campaign.id])


def revised_segments(meeting_id: int) -> set[int]:
    """Ids of the meeting's lines a curator has corrected, to mark them on the page."""
    return set(
        db().scalars(select(Segment.id).where(Segment.meeting_id == meeting_id, Segment.revised_at.is_not(None)))
    )


def may_curate() -> bool:
    user = current_user()
    return user is not None and user.role in ("curator", "admin")


def mail_trouble() -> str | None:
    """For organizers and admins on the admin's pages: why mail cannot be sent now (the banner), or None."""
    user = current_user()
    if user is None or user.role not in ("admin", "organizer") or not request.path.startswith("/admin"):
        return None
    return cached_mail_problem(settings())


def long_date(value: str | dt.date) -> str:
    """'2024-02-07' → '7 February 2024' in English, '7 de febrero de 2024' in Spanish, as the pages write dates."""
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
    return long_date_in(day, locale())


def kind_name(kind: str) -> str:
    """A segment's kind as the visitor's language says it (the value in forms and the API stays the English word)."""
    if "kind_names" not in g:  # once per request: a search page names kinds a dozen times
        g.kind_names = {
            "testimony": gettext("testimony"),
            "deliberation": gettext("deliberation"),
            "remark": gettext("remark"),
            "procedural": gettext("procedural"),
        }
    names: dict[str, str] = g.kind_names
    return names.get(kind, kind)


def say(value: object) -> str:
    """A sentence from below the web (archive.locales.Text) in the visitor's language; anything else as it is
    (nothing for None)."""
    return "" if value is None else localized_text(value, locale())


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


def oembed_url(slug: str) -> str:
    """The oEmbed address of an excerpt, for its page's discovery tag (templates/partials/oembed_link.html)."""
    return absolute_url("/oembed?" + urlencode({"url": absolute_url(f"/excerpts/{slug}"), "format": "json"}))


def search_feed_url(args: dict[str, str]) -> str:
    """The Atom feed of a search: its filters, without page or sort."""
    kept = {name: args[name] for name in FEED_PARAMETERS if (args.get(name) or "").strip()}
    return "/search.atom?" + urlencode(kept)


# The search parameters a saved search keeps (no page or sort: a feed is the newest hits).
FEED_PARAMETERS = ("q", "speaker", "kind", "meeting", "body", "lang", "from", "to")


def clock(seconds: float) -> str:
    return format_clock(seconds)


# What Werkzeug leaves unescaped in a query string (werkzeug.urls._urlencode), so links read the same as url_for's.
URL_SAFE = "!$'()*,/:;?@"


def search_url(args: dict[str, str], **changes: object) -> str:
    """The search page with these parameters changed (a facet, a page): as url_for builds it, at a tenth of
    the cost (a search page has some thirty such links: the page's address is built once per request)."""
    query = {**args, **{name: str(value) for name, value in changes.items()}}
    if "search_path" not in g:
        g.search_path = url_for("pages.search")
    # urlencode(query, safe=URL_SAFE), with each name and value quoted once: the links repeat the query's words.
    return f"{g.search_path}?{'&'.join(f'{_quoted(name)}={_quoted(value)}' for name, value in query.items())}"


@functools.lru_cache(maxsize=4096)
def _quoted(text: str) -> str:
    return quote_plus(text, safe=URL_SAFE)


def date_value(value: str | None) -> str:
    """A `type=date` input's value: the date when it is one (YYYY-MM-DD), else nothing (HTML allows no other)."""
    text = (value or "").strip()
    try:
        return dt.date.fromisoformat(text).isoformat() if len(text) == 10 else ""
    except ValueError:
        return ""


def language_name(code: str | None) -> str:
    """A language code as people read it, in the visitor's language: "es" → "Spanish", or "español"."""
    from archive.config import language_name as name

    if not code:
        return gettext("Unknown language")
    if locale() == "en":
        return name(code)
    return Locale.parse(locale()).languages.get(code) or name(code)


def register(app: Flask) -> None:
    """Every template global and filter, on the app."""
    for function in (
        absolute_url,
        agenda_items,
        campaigns_citing_excerpt,
        current_user,
        excerpt_form,
        mail_trouble,
        may_curate,
        oembed_url,
        open_campaign_list,
        revised_segments,
        search_feed_url,
        search_url,
    ):
        app.add_template_global(function)
    app.add_template_filter(campaign_text)
    app.add_template_filter(clock)
    app.add_template_filter(neutral_label)
    app.add_template_filter(speaker_colour)
    app.add_template_filter(public_title)
    app.add_template_filter(language_name)
    app.add_template_filter(long_date)
    app.add_template_filter(say)
    app.add_template_filter(kind_name)
    app.add_template_filter(date_value)
