"""Campaigns for supporters: the campaign page, writing and confirming a letter, the thank-you page.

The flow is three requests a supporter makes and one a mail scanner may make: the page (GET, with the town or
district lookup in its query), the letter (POST: stored unconfirmed, a confirmation emailed), the emailed link
(GET: shows the letter and a button, changes nothing, since mail scanners open links) and the button (POST:
confirmed, one email per legislator queued). The form carries a CSRF token, a random form key (a form sent twice
makes one letter), a signed time it was shown (a robot that sends it at once is refused) and a honeypot field.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import quote as url_quote
from urllib.parse import urlencode

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer

from archive.campaigns.letters import (
    LEGISLATOR_MARKER,
    SHOWN,
    SUPPORTER_MARKER,
    TOWN_MARKER,
    TooMany,
    confirm_letter,
    draft_letter,
    letter_for_token,
    personal_letter,
    recipients_for,
    write_letter,
)
from archive.campaigns.manage import is_open, open_campaigns, public_campaign, public_counts
from archive.db.models import Campaign, Letter
from archive.errors import InvalidInput, NotFound
from archive.excerpts.manage import ExcerptDocument, excerpt_document, is_withheld
from archive.legislators import CHAMBER_TITLES, districts, find_legislators, towns
from archive.locales import Text
from archive.privacy.view import public_campaign_text
from archive.web.context import absolute_url, db, locale, localized, secret_key

campaigns = Blueprint("campaigns", __name__)
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


class NotConfigured(InvalidInput):
    """The site cannot send letters as configured (a 503); the supporter's letter is shown back, kept."""


UNREADABLE = Text("The form could not be read: reload the page and write your letter again.")
KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
FORM_MAX_AGE = 12 * 3600  # as long as the CSRF token: a letter form left open for a working day still sends


@campaigns.errorhandler(TooMany)
def too_many(error: TooMany) -> ResponseReturnValue:
    return render_template("error.html", message=localized(error), status=429), 429


def _public(slug: str) -> Campaign:
    """The campaign, unless it is a draft: drafts are for their organizers (previewed in /admin) only."""
    return public_campaign(db(), slug)


def counted(campaign: Campaign) -> dict[str, int]:
    """The public counter: supporters, confirmed letters, emails delivered; never who wrote them."""
    return public_counts(db(), campaign)


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(), salt="letter-form-shown-at")


def _excerpt_documents(campaign: Campaign) -> list[ExcerptDocument]:
    # An excerpt withheld at a speaker's request (archive.privacy) is left out of the campaign's page.
    return [excerpt_document(db(), row.excerpt) for row in campaign.excerpts if not is_withheld(db(), row.excerpt)]


def _share_links(title: str, url: str) -> dict[str, str]:
    """Plain links to each network's own share page: nothing of theirs loads here until the supporter clicks."""
    text = f"{title} {url}"
    return {
        "Email": "mailto:?" + urlencode({"subject": title, "body": url}, quote_via=url_quote),
        "X": "https://x.com/intent/post?" + urlencode({"text": title, "url": url}),
        "Bluesky": "https://bsky.app/intent/compose?" + urlencode({"text": text}),
        "Facebook": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}),
    }


def _lookup(campaign: Campaign, town: str | None, chosen: list[str]) -> tuple[Any, str | None]:
    """The legislator lookup for the page's query (None before one is asked), or the reason it cannot be made."""
    if campaign.target == "list" or (not town and not chosen):
        return None, None
    chamber = campaign.target if campaign.target in CHAMBER_TITLES else None
    try:
        return find_legislators(db(), town=town, district=chosen, chamber=chamber), None
    except InvalidInput as error:
        return None, localized(error)


def _page(
    campaign: Campaign, *, town: str | None, chosen: list[str], form: dict[str, Any] | None, error: str | None
) -> ResponseReturnValue:
    """The campaign page: why, the excerpts, the lookup, and (once the legislators are known) the letter form."""
    lookup, lookup_error = _lookup(campaign, town, chosen)
    error = error or lookup_error
    ready = campaign.target == "list" or (
        lookup is not None and bool(lookup.matches) and all(match.chosen for match in lookup.matches)
    )
    chosen_districts = [m.chosen for m in lookup.matches if m.chosen] if lookup is not None else []
    recipients = recipients_for(db(), campaign, chosen_districts) if ready else []
    excerpts = _excerpt_documents(campaign)
    open_now = is_open(campaign)
    if form is None and open_now and recipients:
        key = secrets.token_urlsafe(24)
        link = absolute_url(excerpts[0]["url"]) if excerpts else ""
        body = draft_letter(
            campaign,
            SHOWN[SUPPORTER_MARKER],
            (lookup.town if lookup is not None and lookup.town else "") or SHOWN[TOWN_MARKER],
            session=db(),
            excerpt_link=link,
            legislator_name=SHOWN[LEGISLATOR_MARKER],
        )
        form = {
            "name": "",
            "email": "",
            "town": lookup.town if lookup is not None and lookup.town else "",
            "body": body,
            "form_key": key,
            "shown_at": _signer().dumps(key),
        }
    chamber_districts = districts(db())
    return render_template(
        "public/campaign.html",
        campaign=campaign,
        excerpts=excerpts,
        counts=counted(campaign),
        open_now=open_now,
        lookup=lookup,
        query={"town": town or "", "district": chosen},
        chambers=[c for c in chamber_districts if campaign.target in (c, "both")],
        districts=chamber_districts,
        towns=towns(db()),
        titles=CHAMBER_TITLES,
        recipients=recipients,
        writable=[r for r in recipients if r["writable"]],
        chosen_districts=chosen_districts,
        form=form,
        error=error,
        markers={
            "legislator": SHOWN[LEGISLATOR_MARKER],
            "supporter": SHOWN[SUPPORTER_MARKER],
            "town": SHOWN[TOWN_MARKER],
        },
        page_url=absolute_url(url_for("campaigns.campaign", slug=campaign.slug)),
        min_fill_seconds=current_app.config["TESTIMONY"].min_fill_seconds,
    )


@campaigns.get("/campaigns")
def index() -> ResponseReturnValue:
    found = open_campaigns(db())
    return render_template("public/campaigns.html", campaigns=found, counts={c.id: counted(c) for c in found})


@campaigns.get("/campaigns/<slug>")
def campaign(slug: str) -> ResponseReturnValue:
    found = _public(slug)
    town = " ".join((request.args.get("town") or "").split()) or None
    chosen = [name.strip() for name in request.args.getlist("district") if name.strip()]
    return _page(found, town=town, chosen=chosen, form=None, error=None)


@campaigns.post("/campaigns/<slug>/letters")
def write(slug: str) -> ResponseReturnValue:
    found = _public(slug)
    posted = request.form
    chosen = [name.strip() for name in posted.getlist("district") if name.strip()]
    lookup_town = " ".join(posted.get("lookup_town", "").split()) or None  # the lookup's, apart from the letter's
    form = {name: posted.get(name, "") for name in ("name", "email", "town", "body", "form_key", "shown_at")}
    try:
        if not current_app.config["TESTIMONY"].mail_from:
            # Its confirmation could never be sent: say so rather than "check your email".
            raise NotConfigured(
                Text(
                    "Letters cannot be sent from this site yet: it has no sending address configured."
                    " Your letter is below; please try again later."
                )
            )
        key = form["form_key"]
        if not KEY.match(key):
            raise InvalidInput(UNREADABLE)
        try:
            shown_key, shown_at = _signer().loads(form["shown_at"], max_age=FORM_MAX_AGE, return_timestamp=True)
        except BadSignature:
            form["shown_at"] = _signer().dumps(key)  # a fresh one, so the refilled form can be sent
            raise InvalidInput(
                Text("The form is too old or was changed: check your letter and send it again.")
            ) from None
        if shown_key != key:
            raise InvalidInput(UNREADABLE)
        write_letter(
            db(),
            current_app.config["TESTIMONY"],
            found,
            form_key=key,
            name=form["name"],
            email=form["email"],
            town=form["town"],
            districts=chosen,
            body=form["body"],
            address=request.remote_addr or "",
            shown_at=shown_at,
            secret_key=secret_key(),
            confirm_url=_emailed_base() + url_for("campaigns.campaign", slug=found.slug) + "/confirm/{token}",
            honeypot=posted.get("website", ""),
            locale=locale(),  # the emails to the supporter in the page's language; the letter as they wrote it
        )
    except InvalidInput as error:
        status = 429 if isinstance(error, TooMany) else 503 if isinstance(error, NotConfigured) else 400
        # The page again, the letter as written (never lost) and the reason beside the form.
        page = _page(found, town=lookup_town, chosen=chosen, form=form, error=localized(error))
        return make_response(page, status)
    return redirect(url_for("campaigns.check_email", slug=found.slug), 303)


def _emailed_base() -> str:
    """The site's address for links sent by email. A request's Host header is anyone's to write: a link built
    from it could send a supporter to another site. So it comes from TESTIMONY_PUBLIC_URL, or, on a machine
    serving only itself (the demo, tests), from a loopback host."""
    settings = current_app.config["TESTIMONY"]
    if settings.public_url:
        return settings.public_url.rstrip("/")
    if (request.host.rpartition(":")[0] or request.host) in LOOPBACK_HOSTS:
        return request.host_url.rstrip("/")
    raise NotConfigured(
        Text(
            "Letters cannot be sent from this site yet: its public address (TESTIMONY_PUBLIC_URL) is not configured."
            " Your letter is below; please try again later."
        )
    )


@campaigns.get("/campaigns/<slug>/letters/sent")
def check_email(slug: str) -> ResponseReturnValue:
    found = _public(slug)
    settings = current_app.config["TESTIMONY"]
    return render_template("public/letter_sent.html", campaign=found, hours=settings.confirm_hours)


def _letter(slug: str, token: str) -> Letter:
    letter = letter_for_token(db(), token)
    if letter.campaign.slug != slug:
        raise NotFound(Text("This confirmation link is not one we sent."))
    return letter


@campaigns.get("/campaigns/<slug>/confirm/<token>")
def confirm(slug: str, token: str) -> ResponseReturnValue:
    """The letter as it will go, and the button that sends it: this GET changes nothing."""
    letter = _letter(slug, token)
    response = make_response(
        render_template(
            "public/letter_confirm.html",
            campaign=letter.campaign,
            letter=letter,
            preview=personal_letter(letter, letter.recipients[0]),
            titles=CHAMBER_TITLES,
            token=token,
        )
    )
    # The address holds the token and the page the supporter's letter: keep both out of caches and referrers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@campaigns.post("/campaigns/<slug>/confirm/<token>")
def send(slug: str, token: str) -> ResponseReturnValue:
    _letter(slug, token)
    confirm_letter(db(), current_app.config["TESTIMONY"], token)
    return redirect(url_for("campaigns.thanks", slug=slug), 303)


@campaigns.get("/campaigns/<slug>/thanks")
def thanks(slug: str) -> ResponseReturnValue:
    found = _public(slug)
    excerpts = _excerpt_documents(found)
    page_url = absolute_url(url_for("campaigns.campaign", slug=found.slug))
    excerpt_url = absolute_url(excerpts[0]["url"]) if excerpts else None
    return render_template(
        "public/campaign_thanks.html",
        campaign=found,
        counts=counted(found),
        page_url=page_url,
        excerpt_url=excerpt_url,
        # Said as the supporter would say it; the link's preview (its Open Graph card) shows the campaign.
        campaign_links=_share_links(
            gettext(
                "I wrote to my legislators: %(title)s. You can too:",
                title=public_campaign_text(db(), found.id, found.title),
            ),
            page_url,
        ),
        excerpt_links=_share_links(excerpts[0]["title"], excerpt_url) if excerpts and excerpt_url else None,
    )
