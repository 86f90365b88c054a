"""Campaigns for their organizers: /admin/campaigns (create, edit, open, close, supporters, CSV export).

Every view needs an organizer (or admin) account; beyond that, every campaign is checked against the signed-in
account on the server (`can_manage`): an organizer reaches only the campaigns that list them. Supporters' names,
emails and towns are shown only there, never cached, and each CSV export is written to the audit log.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from archive.accounts import users as accounts
from archive.campaigns.export import supporters_csv
from archive.campaigns.manage import (
    DEFAULT_TEMPLATE,
    EDITABLE,
    add_organizer,
    can_manage,
    close_campaign,
    create_campaign,
    find_campaign,
    letter_counts,
    managed_campaigns,
    open_campaign,
    purge_due,
    remove_organizer,
    set_excerpts,
    supporters,
    update_campaign,
)
from archive.campaigns.template import PLACEHOLDERS
from archive.db.models import CAMPAIGN_TARGETS, Campaign, User
from archive.errors import InvalidInput, NotFound
from archive.excerpts.manage import excerpt_document, find_excerpt, find_excerpts, is_withheld
from archive.legislators import list_legislators
from archive.mail.readiness import forget as forget_mail_problem
from archive.web.context import address, current_user, db, role_required, settings, signed_in

admin_campaigns = Blueprint("admin_campaigns", __name__)

FORM_FIELDS = ("title", "why", "target", "subject", "letter_template", "deadline", "daily_cap", "excerpts")
SEPARATORS = re.compile(r"[\s,]+")
TARGET_LABELS = {
    "house": "The supporter's representatives",
    "senate": "The supporter's senators",
    "both": "The supporter's representatives and senators",
    "list": "Fixed recipients (chosen below), whatever the supporter's town",
}


def _managed(slug: str) -> Campaign:
    """The campaign, if the signed-in account may manage it: 404 when there is none, 403 when it is not theirs."""
    campaign = find_campaign(db(), slug)
    if not can_manage(current_user(), campaign):
        abort(403, description="You do not organise this campaign: ask an admin to add you to it.")
    return campaign


def _audit(action: str, target: str, **detail: Any) -> None:
    accounts.record(db(), action, user=current_user(), target=target, address=address(), **detail)


def _private(response: Any) -> Any:
    """Supporters' data: kept by no cache, shared or private."""
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the form -------------------------------------------------------------------------------------------------


def _form_values() -> dict[str, Any]:
    form = request.form
    values: dict[str, Any] = {name: form.get(name, "") for name in FORM_FIELDS}
    values["recipients"] = [email.strip().lower() for email in form.getlist("recipients")]
    return values


def _campaign_values(campaign: Campaign) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(campaign, name) for name in EDITABLE}
    values["deadline"] = campaign.deadline.isoformat() if campaign.deadline else ""
    values["excerpts"] = " ".join(row.excerpt.slug for row in campaign.excerpts)
    return values


def _changes(values: dict[str, Any]) -> dict[str, Any]:
    """The form's values as the domain takes them: fixed recipients only for a "list" target; an empty subject
    is the title (as the form says)."""
    changes = {name: values[name] for name in EDITABLE if name != "recipients"}
    if not str(changes["subject"]).strip():
        changes["subject"] = changes["title"]
    changes["recipients"] = values["recipients"] if values["target"] == "list" else []
    return changes


def _excerpt_slugs(text: str) -> list[str]:
    return [slug for slug in SEPARATORS.split(text) if slug]


def _form_page(
    campaign: Campaign | None, values: dict[str, Any], status: int = 200, **context: Any
) -> ResponseReturnValue:
    user = signed_in()
    page = render_template(
        "admin/campaign_form.html",
        campaign=campaign,
        values=values,
        targets=CAMPAIGN_TARGETS,
        target_labels=TARGET_LABELS,
        placeholders=PLACEHOLDERS,
        legislators=list_legislators(db()),
        counts=letter_counts(db(), campaign) if campaign else None,
        purge_at=purge_due(campaign, settings()) if campaign else None,
        is_admin=user is not None and user.role == "admin",
        picker=_picker(),
        **context,
    )
    return page, status


def _picker() -> dict[str, Any]:
    """The excerpt picker: excerpts matching ?find= (the newest without it), each as published, for a preview."""
    text = (request.args.get("find") or "").strip()[:200]
    found = [excerpt for excerpt in find_excerpts(db(), text) if not is_withheld(db(), excerpt)]
    return {"find": text, "excerpts": [excerpt_document(db(), excerpt) for excerpt in found]}


# --- the list and making one ------------------------------------------------------------------------------------


@admin_campaigns.get("/admin/campaigns")
@role_required("organizer")
def campaign_list() -> ResponseReturnValue:
    """Campaigns: make, edit, open and close them; their supporters."""
    rows = [(campaign, letter_counts(db(), campaign)) for campaign in managed_campaigns(db(), signed_in())]
    return render_template("admin/campaigns.html", rows=rows, done=request.args.get("done"))


@admin_campaigns.get("/admin/campaigns/new")
@role_required("organizer")
def new_campaign() -> ResponseReturnValue:
    """New campaign: a draft to edit before it opens; `?excerpt=SLUG` starts it from that excerpt (its title, and
    the default letter, which says who said it, where and when)."""
    values = {name: "" for name in FORM_FIELDS} | {"target": "both", "daily_cap": 2000, "recipients": []}
    values["letter_template"] = DEFAULT_TEMPLATE
    slug = (request.args.get("excerpt") or "").strip()
    if slug:
        try:
            excerpt = find_excerpt(db(), slug)
        except NotFound:
            return _form_page(None, values, 404, error=f"excerpt: no excerpt {slug!r}")
        values["excerpts"], values["title"] = excerpt.slug, excerpt.title
    return _form_page(None, values)


@admin_campaigns.post("/admin/campaigns")
@role_required("organizer")
def create() -> ResponseReturnValue:
    values = _form_values()
    me = signed_in()
    session = db()
    try:
        made = create_campaign(
            session,
            **_changes(values),
            excerpt_slugs=_excerpt_slugs(values["excerpts"]),
            created_by=me.email,
        )
        add_organizer(session, made, me)  # whoever makes it organises it
        _audit("campaign-create", made.slug, title=made.title)
        session.commit()
    except (InvalidInput, NotFound) as error:
        session.rollback()
        return _form_page(None, values, 400, error=str(error))
    return redirect(url_for("admin_campaigns.edit", slug=made.slug, done="made (a draft: open it when ready)"), 303)


# --- one campaign -----------------------------------------------------------------------------------------------


@admin_campaigns.get("/admin/campaigns/<slug>")
@role_required("organizer")
def edit(slug: str) -> ResponseReturnValue:
    campaign = _managed(slug)
    return _form_page(campaign, _campaign_values(campaign), done=request.args.get("done"))


@admin_campaigns.post("/admin/campaigns/<slug>")
@role_required("organizer")
def save(slug: str) -> ResponseReturnValue:
    campaign = _managed(slug)
    values = _form_values()
    session = db()
    before = _campaign_values(campaign)
    try:
        update_campaign(session, campaign, **_changes(values))
        set_excerpts(session, campaign, _excerpt_slugs(values["excerpts"]))
        after = _campaign_values(campaign)
        changed = [name for name in after if after[name] != before[name]]
        if changed:
            _audit("campaign-edit", slug, fields=changed)
        session.commit()
    except (InvalidInput, NotFound) as error:
        session.rollback()
        return _form_page(_managed(slug), values, 400, error=str(error))
    return redirect(url_for("admin_campaigns.edit", slug=slug, done="saved"), 303)


def _state_change(slug: str, change: Any, action: str, done: str) -> ResponseReturnValue:
    campaign = _managed(slug)
    session = db()
    try:
        change(session, campaign)
        _audit(action, slug)
        session.commit()
    except InvalidInput as error:
        session.rollback()
        campaign = _managed(slug)
        return _form_page(campaign, _campaign_values(campaign), 400, error=str(error))
    return redirect(url_for("admin_campaigns.edit", slug=slug, done=done), 303)


@admin_campaigns.post("/admin/campaigns/<slug>/open")
@role_required("organizer")
def open_(slug: str) -> ResponseReturnValue:
    configured = settings()
    forget_mail_problem()  # the banner asks again after this fresh look

    def change(session: Any, campaign: Any) -> None:
        open_campaign(session, campaign, settings=configured)

    return _state_change(slug, change, "campaign-open", "opened: supporters can write now")


@admin_campaigns.post("/admin/campaigns/<slug>/close")
@role_required("organizer")
def close(slug: str) -> ResponseReturnValue:
    return _state_change(slug, close_campaign, "campaign-close", "closed: no more letters")


# --- organizers (admins only) -----------------------------------------------------------------------------------


def _account(email: str) -> User:
    user = accounts.find_user(db(), email)
    if user is None:
        raise InvalidInput(f"email: no account {email.strip()!r} (add it under Accounts first)")
    return user


@admin_campaigns.post("/admin/campaigns/<slug>/organizers")
@role_required("admin")
def add_organizer_(slug: str) -> ResponseReturnValue:
    campaign = _managed(slug)
    session = db()
    try:
        user = _account(request.form.get("email", ""))
        added = add_organizer(session, campaign, user)
        if added:
            _audit("organizer-add", slug, organizer=user.email)
        session.commit()
    except InvalidInput as error:
        session.rollback()
        campaign = _managed(slug)
        return _form_page(campaign, _campaign_values(campaign), 400, organizer_error=str(error))
    done = f"{user.email} {'now organises it' if added else 'already organised it'}"
    return redirect(url_for("admin_campaigns.edit", slug=slug, done=done), 303)


@admin_campaigns.post("/admin/campaigns/<slug>/organizers/remove")
@role_required("admin")
def remove_organizer_(slug: str) -> ResponseReturnValue:
    campaign = _managed(slug)
    session = db()
    try:
        user = _account(request.form.get("email", ""))
    except InvalidInput as error:
        return _form_page(campaign, _campaign_values(campaign), 400, organizer_error=str(error))
    if remove_organizer(session, campaign, user):
        _audit("organizer-remove", slug, organizer=user.email)
    session.commit()
    return redirect(url_for("admin_campaigns.edit", slug=slug, done=f"{user.email} no longer organises it"), 303)


# --- supporters: personal data ----------------------------------------------------------------------------------


@admin_campaigns.get("/admin/campaigns/<slug>/supporters")
@role_required("organizer")
def supporter_list(slug: str) -> ResponseReturnValue:
    campaign = _managed(slug)
    page = render_template(
        "admin/campaign_supporters.html",
        campaign=campaign,
        letters=supporters(db(), campaign),
        counts=letter_counts(db(), campaign),
        purge_at=purge_due(campaign, settings()),
        retention_days=settings().supporter_retention_days,
    )
    return _private(make_response(page))


@admin_campaigns.get("/admin/campaigns/<slug>/supporters.csv")
@role_required("organizer")
def supporter_export(slug: str) -> ResponseReturnValue:
    """GET, as it changes nothing but the audit log, which records every export and how many rows it held."""
    campaign = _managed(slug)
    letters = supporters(db(), campaign)
    body = supporters_csv(letters)
    _audit("campaign-export", slug, rows=len(letters))
    db().commit()
    response = make_response(body)
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{campaign.slug}-supporters.csv"'
    return _private(response)
