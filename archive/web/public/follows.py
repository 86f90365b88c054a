"""Following a search, a body or a speaker by email: the request (a form beside each Atom feed), the emailed
confirmation (a page and a button: mail scanners open links), and the one-click unsubscribe link."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue

from archive.errors import InvalidInput
from archive.publish.follows import (
    address_hash,
    confirm_follow,
    follow_for,
    label_of,
    request_follow,
    target_for,
    unsubscribe,
)
from archive.web.context import address, db, locale, localized, secret_key, site_url

follows = Blueprint("follows", __name__)


@follows.get("/follow")
def form() -> ResponseReturnValue:
    """The form, on a page of its own: a CSRF token on the search, meeting and speaker pages would keep them out
    of the page cache, so they only link here (?kind=search|body|speaker&target=…)."""
    kind, target = request.args.get("kind", ""), request.args.get("target", "")
    try:
        found = target_for(db(), kind, target)
    except InvalidInput as error:
        return render_template("error.html", message=localized(error), status=400), 400
    return render_template("public/follow.html", step="form", target=found)


@follows.post("/follow")
def ask() -> ResponseReturnValue:
    form = request.form
    try:
        request_follow(
            db(),
            current_app.config["TESTIMONY"],
            kind=form.get("kind", ""),
            target=form.get("target", ""),
            email=form.get("email", ""),
            address_hash=address_hash(address() or "", secret_key()),
            secret_key=secret_key(),
            base_url=site_url(),
            locale=locale(),  # the confirmation email in the page's language
        )
    except InvalidInput as error:
        return render_template("error.html", message=localized(error), status=400), 400
    return render_template("public/follow.html", step="asked")


@follows.get("/follow/confirm/<token>")
def confirm_page(token: str) -> ResponseReturnValue:
    """The follow and a button: this GET changes nothing."""
    follow = follow_for(db(), token, "confirm", secret_key())
    page = render_template("public/follow.html", step="confirm", follow=follow, label=label_of(follow), token=token)
    return _private(page)


@follows.post("/follow/confirm/<token>")
def confirm(token: str) -> ResponseReturnValue:
    follow = follow_for(db(), token, "confirm", secret_key())
    confirm_follow(db(), follow)
    return _private(render_template("public/follow.html", step="following", follow=follow, label=label_of(follow)))


@follows.route("/follow/unsubscribe/<token>", methods=["GET", "POST"])
def stop(token: str) -> ResponseReturnValue:
    """One click: opening the link unsubscribes (POST too, as mail programs' unsubscribe buttons send)."""
    follow = follow_for(db(), token, "unsubscribe", secret_key())
    unsubscribe(db(), follow)
    return _private(render_template("public/follow.html", step="unsubscribed", follow=follow, label=label_of(follow)))


def _private(body: str) -> ResponseReturnValue:
    return body, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
