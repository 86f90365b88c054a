"""Overlapping speech for curators: the list of overlaps nobody has listened to, and adding the line a curator
hears there (a remark said over testimony). Each change is a POST with the CSRF token, made by one call into
archive.curation.overlaps (a revision or a review, with its audit event); the commit re-indexes the meeting."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive.curation.overlaps import (
    NEW_VOICE,
    add_overlapping_line,
    find_overlap,
    mark_overlap_reviewed,
    unreviewed_overlaps,
)
from archive.db.lookups import meeting_by_slug
from archive.db.models import SEGMENT_KINDS, Meeting, Overlap, Speaker
from archive.errors import InvalidInput
from archive.timecodes import parse_clock
from archive.web.context import current_user, db, role_required

overlap_pages = Blueprint("overlaps", __name__)


@overlap_pages.get("/admin/overlaps")
@role_required("curator")
def overlaps() -> ResponseReturnValue:
    """Overlapping speech: two voices at once, to listen to and transcribe."""
    return render_template("admin/overlaps.html", overlaps=unreviewed_overlaps(db()), done=request.args.get("done"))


@overlap_pages.post("/admin/overlaps/<int:overlap_id>/reviewed")
@role_required("curator")
def reviewed(overlap_id: int) -> ResponseReturnValue:
    mark_overlap_reviewed(db(), overlap_id, user=current_user(), reviewed=request.form.get("undo") != "1")
    db().commit()
    return redirect(url_for("overlaps.overlaps", done="reviewed"), 303)


@overlap_pages.get("/admin/meetings/<slug>/lines/new")
@role_required("curator")
def line_form(slug: str) -> ResponseReturnValue:
    """Add an overlapping line: words heard in the recording that the transcript lacks."""
    meeting = meeting_by_slug(db(), slug)
    overlap = _overlap_from(request.args.get("overlap", ""), meeting)
    return _line_page(meeting, overlap)


@overlap_pages.post("/admin/meetings/<slug>/lines")
@role_required("curator")
def line_add(slug: str) -> ResponseReturnValue:
    meeting, form = meeting_by_slug(db(), slug), request.form
    overlap = _overlap_from(form.get("overlap", ""), meeting)
    try:
        revision = add_overlapping_line(
            db(),
            slug,
            text=form.get("text", ""),
            start=_seconds(form.get("start", ""), "start"),
            end=_seconds(form.get("end", ""), "end"),
            speaker=form.get("speaker") or None,
            kind=form.get("kind") or None,
            tags=form.get("tags", ""),
            overlap_id=overlap.id if overlap is not None else None,
            user=current_user(),
        )
        db().commit()
    except InvalidInput as error:
        db().rollback()
        return _line_page(meeting_by_slug(db(), slug), overlap, str(error), 400)
    return redirect(url_for("pages.meeting", slug=slug, _anchor=f"s{revision.segment_id}"), 303)


def _seconds(value: str, field: str) -> float:
    try:
        return parse_clock(value)
    except InvalidInput as error:
        raise InvalidInput(f"{field}: {error}") from None


def _overlap_from(value: str, meeting: Meeting) -> Overlap | None:
    if not value.isdigit():
        return None
    overlap = find_overlap(db(), int(value))
    return overlap if overlap.meeting_id == meeting.id else None


def _line_page(
    meeting: Meeting, overlap: Overlap | None, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    speakers = db().scalars(
        select(Speaker)
        .where(Speaker.meeting_id == meeting.id)
        .options(selectinload(Speaker.person))
        .order_by(Speaker.label)
    )
    return (
        render_template(
            "admin/line_new.html",
            meeting=meeting,
            overlap=overlap,
            speakers=speakers.all(),
            kinds=SEGMENT_KINDS,
            new_voice=NEW_VOICE,
            error=error,
        ),
        status,
    )
