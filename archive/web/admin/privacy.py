"""Curators' consent and redaction pages: the ledger, a meeting's voices and redactions, purge, the original.

Every change is a POST with its CSRF token, made by one archive.privacy use-case; when its transaction commits
the meeting's search documents are rewritten by the session's own hooks (archive.search.sync), so the public
surfaces and the index's files follow at once. A bad form comes back with the values as typed and the reason,
nothing lost.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from archive.accounts.users import record
from archive.db.lookups import meeting_by_slug
from archive.db.models import REDACTION_SCOPES, SPEAKER_CONSENTS, Job, Meeting, Recording, Speaker
from archive.errors import InvalidInput, NotFound
from archive.media.store import MEDIA_TYPES
from archive.privacy import ledger as privacy
from archive.privacy.names import spoken_names
from archive.privacy.purge import purge_meeting, remove_files
from archive.privacy.view import in_force, public_view
from archive.timecodes import parse_clock
from archive.web.context import address, current_user, db, role_required, settings, stored_media

privacy_pages = Blueprint("privacy", __name__)

WHO = ("reason", "requested_by", "approved_by")


@privacy_pages.get("/admin/privacy")
@role_required("curator")
def ledger() -> ResponseReturnValue:
    """Privacy: consent and redactions — the ledger of every request, newest first."""
    meeting = (request.args.get("meeting") or "").strip() or None
    scope = (request.args.get("scope") or "").strip() or None
    if scope is not None and scope not in REDACTION_SCOPES:
        scope = None
    rows = privacy.ledger(db(), meeting_slug=meeting, scope=scope)
    return render_template(
        "admin/privacy.html",
        rows=rows,
        lifted=privacy.lifted_ids(db()),
        scopes=REDACTION_SCOPES,
        scope=scope,
        meeting=meeting,
        meetings=db().scalars(select(Meeting.slug).order_by(Meeting.date.desc(), Meeting.id.desc())).all(),
    )


@privacy_pages.get("/admin/meetings/<slug>/privacy")
@role_required("curator")
def meeting_privacy(slug: str) -> ResponseReturnValue:
    return _meeting_page(slug)


def _meeting_page(
    slug: str, *, error: str | None = None, form: str | None = None, status: int = 200
) -> ResponseReturnValue:
    meeting = meeting_by_slug(db(), slug)
    view = public_view(db(), meeting)
    speakers = db().scalars(select(Speaker).where(Speaker.meeting_id == meeting.id).order_by(Speaker.label)).all()
    voices: list[dict[str, Any]] = [
        {
            "label": s.label,
            # Curators see who the voice is; the public may not (that is what this page decides).
            "name": s.person.name if s.person else None,
            "consent": s.consent,
            "pseudonym": view.pseudonyms.get(s.id),
        }
        for s in speakers
    ]
    page = render_template(
        "admin/privacy_meeting.html",
        meeting=meeting,
        voices=voices,
        # Where a name is withheld but still said aloud: one click redacts it (a phrase, as below).
        spoken=spoken_names(db(), meeting),
        approver=user.email if (user := current_user()) is not None else "",
        consents=SPEAKER_CONSENTS,
        redactions=in_force(db(), meeting.id),
        rows=privacy.ledger(db(), meeting_slug=slug),
        lifted=privacy.lifted_ids(db()),
        notices=view.notices,
        # The worker's rewriting after a ledger change (archive.worker.rewrite), for the curator to follow.
        rewriting=db().scalar(
            select(Job).where(Job.kind == "dumps", Job.status.in_(("queued", "running"))).order_by(Job.id.desc())
        ),
        error=error,
        form=form,
        values=request.form if error else {},
    )
    return page, status


def _who() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in WHO}


def _changed(slug: str) -> ResponseReturnValue:
    """Commit (the index and its files follow: archive.search.sync) and show the meeting's privacy page again."""
    db().commit()
    return redirect(url_for("privacy.meeting_privacy", slug=slug), 303)


@privacy_pages.post("/admin/meetings/<slug>/privacy/consent")
@role_required("curator")
def consent(slug: str) -> ResponseReturnValue:
    try:
        privacy.set_consent(
            db(),
            slug,
            request.form.get("label", ""),
            request.form.get("consent", ""),
            **_who(),
            user=current_user(),
        )
    except InvalidInput as error:
        db().rollback()
        label = request.form.get("label", "")
        return _meeting_page(slug, error=str(error), form=f"consent-{label}", status=400)
    return _changed(slug)


@privacy_pages.post("/admin/meetings/<slug>/privacy/range")
@role_required("curator")
def redact_range(slug: str) -> ResponseReturnValue:
    try:
        start = _time("start")
        end = _time("end")
        privacy.redact_range(db(), slug, start, end, **_who(), user=current_user())
    except InvalidInput as error:
        db().rollback()
        return _meeting_page(slug, error=str(error), form="range", status=400)
    return _changed(slug)


@privacy_pages.post("/admin/meetings/<slug>/privacy/phrase")
@role_required("curator")
def redact_phrase(slug: str) -> ResponseReturnValue:
    try:
        privacy.redact_phrase(db(), slug, request.form.get("phrase", ""), **_who(), user=current_user())
    except InvalidInput as error:
        db().rollback()
        return _meeting_page(slug, error=str(error), form="phrase", status=400)
    return _changed(slug)


@privacy_pages.post("/admin/privacy/<int:redaction_id>/lift")
@role_required("curator")
def lift(redaction_id: int) -> ResponseReturnValue:
    slug = request.form.get("meeting", "")
    try:
        row = privacy.lift(db(), redaction_id, reason=request.form.get("reason", ""), user=current_user())
    except InvalidInput as error:
        db().rollback()
        return _meeting_page(slug, error=str(error), form="lift", status=400)
    meeting = db().get(Meeting, row.meeting_id) if row.meeting_id else None
    if meeting is None:
        db().commit()
        return redirect(url_for("privacy.ledger"), 303)
    return _changed(meeting.slug)


@privacy_pages.post("/admin/meetings/<slug>/privacy/purge")
@role_required("curator")
def purge(slug: str) -> ResponseReturnValue:
    try:
        if request.form.get("confirm", "").strip() != slug:
            raise InvalidInput(f"confirm: type the meeting's slug ({slug}) to purge it")
        files = purge_meeting(db(), settings(), slug, **_who(), user=current_user())
    except InvalidInput as error:
        db().rollback()
        return _meeting_page(slug, error=str(error), form="purge", status=400)
    db().commit()
    remove_files(files)  # only once the rows are gone: a failed commit leaves everything in place
    return redirect(url_for("privacy.meeting_privacy", slug=slug), 303)


@privacy_pages.get("/admin/meetings/<slug>/recordings/<int:position>/original")
@role_required("curator")
def original(slug: str, position: int) -> ResponseReturnValue:
    row = db().scalar(select(Recording).join(Meeting).where(Meeting.slug == slug, Recording.position == position))
    if row is None:
        raise NotFound(f"meeting {slug!r} has no recording {position}")
    path = stored_media(row.sha256, row.suffix)
    # Each access to an original (which may hold withheld speech) is on the record.
    record(
        db(),
        "original-access",
        user=current_user(),
        target=f"meeting:{slug}",
        address=address(),
        recording=row.sha256,
        position=position,
    )
    db().commit()
    response = send_file(path, mimetype=MEDIA_TYPES.get(row.suffix), conditional=True, etag=row.sha256)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _time(name: str) -> float:
    value = (request.form.get(name) or "").strip()
    if not value:
        raise InvalidInput(f"{name}: give a time (seconds or h:mm:ss)")
    try:
        return parse_clock(value)
    except InvalidInput as error:
        raise InvalidInput(f"{name}: {error}") from None
