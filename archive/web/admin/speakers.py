"""Curators name a meeting's voices, correct the diarization, keep people's details and mark a transcript reviewed.

The browser's face of `testimony speakers …`, `testimony people …` and `testimony review`: the same domain
functions (archive.speakers.people, archive.curation.review), each change audited and the affected meetings re-indexed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.accounts.users import record
from archive.curation.review import mark_reviewed, mark_unreviewed
from archive.db.lookups import meeting_by_slug
from archive.db.models import CONSENT_LEVELS, Person, Segment, Speaker
from archive.errors import InvalidInput, NotFound
from archive.speakers.people import (
    affected_meetings,
    confirm_suggestion,
    delete_person,
    find_speaker,
    get_person,
    merge_speakers,
    name_speaker,
    reject_suggestion,
    split_speaker,
    talk_times,
    update_person,
)
from archive.speakers.voices import HUMAN_METHODS
from archive.timecodes import parse_clock
from archive.web.context import address, db, role_required, signed_in

admin_speakers = Blueprint("admin_speakers", __name__)
SAMPLE_LINES = 3  # lines shown per voice, so a curator can tell who it is


def _field(name: str) -> str:
    return " ".join((request.form.get(name) or "").split())


def _voices_page(
    slug: str, *, error: str | None = None, done: str | None = None, status: int = 200
) -> ResponseReturnValue:
    session = db()
    meeting = meeting_by_slug(session, slug)
    talk = talk_times(session, meeting.id)
    voices = session.scalars(select(Speaker).where(Speaker.meeting_id == meeting.id).order_by(Speaker.label)).all()
    samples: dict[int, list[Segment]] = {}
    for voice in voices:
        samples[voice.id] = list(
            session.scalars(
                select(Segment).where(Segment.speaker_id == voice.id).order_by(Segment.start).limit(SAMPLE_LINES)
            )
        )
    page = render_template(
        "admin/speakers.html",
        meeting=meeting,
        voices=voices,
        talk=talk,
        samples=samples,
        methods=HUMAN_METHODS,
        error=error,
        done=done,
        values=request.form if error else {},
    )
    return page, status


@admin_speakers.get("/admin/meetings/<slug>/speakers")
@role_required("curator")
def voices(slug: str) -> ResponseReturnValue:
    return _voices_page(slug)


def _change(slug: str, action: str, change: Any, **detail: Any) -> ResponseReturnValue:
    """Run one change in a transaction with its audit event (the index follows the commit); show the page."""
    user = signed_in()
    try:
        with current_app.extensions["sessions"]() as session, session.begin():
            _touched, message = change(session, user.email)
            record(session, action, user=user, target=slug, address=address(), **detail)
    except (InvalidInput, NotFound) as error:
        return _voices_page(slug, error=str(error), status=400)
    return _voices_page(slug, done=message)


@admin_speakers.post("/admin/meetings/<slug>/speakers/<label>/name")
@role_required("curator")
def name(slug: str, label: str) -> ResponseReturnValue:
    person_id = _field("person_id")
    if person_id and not person_id.isdigit():
        return _voices_page(slug, error="person: give the person's number, or leave it empty", status=400)

    def change(session: Session, made_by: str) -> tuple[list[str], str]:
        speaker = name_speaker(
            session,
            slug,
            label,
            _field("name"),
            role=_field("role") or None,
            affiliation=_field("affiliation") or None,
            method=_field("method") or "curator",
            note=_field("note") or None,
            person_id=int(person_id) if person_id else None,
            made_by=made_by,
        )
        assert speaker.person is not None  # just named
        return [slug], f"{label} is now {speaker.person.name}"

    return _change(slug, "speaker-name", change, label=label, name=_field("name"), method=_field("method"))


@admin_speakers.post("/admin/meetings/<slug>/speakers/<label>/suggestion")
@role_required("curator")
def suggestion(slug: str, label: str) -> ResponseReturnValue:
    """Confirm the machine's suggestion (the voice is named in public from this commit) or reject it (never again)."""
    verdict = _field("verdict")
    if verdict not in ("confirm", "reject"):
        return _voices_page(slug, error="verdict: confirm or reject", status=400)

    def change(session: Session, made_by: str) -> tuple[list[str], str]:
        speaker = find_speaker(session, slug, label)
        who = speaker.suggested_person.name if speaker.suggested_person else ""
        if verdict == "confirm":
            confirm_suggestion(session, speaker, made_by=made_by)
            return [slug], f"{label} is now {who}, confirmed by you"
        reject_suggestion(session, speaker, made_by=made_by)
        return [slug], f"{label} is not {who}: the suggestion is gone"

    return _change(slug, f"speaker-suggestion-{verdict}", change, label=label)


@admin_speakers.post("/admin/meetings/<slug>/speakers/merge")
@role_required("curator")
def merge(slug: str) -> ResponseReturnValue:
    keep, other = _field("keep"), _field("other")

    def change(session: Session, made_by: str) -> tuple[list[str], str]:
        if keep == other:
            raise InvalidInput("merge: choose two different voices")
        merge_speakers(session, slug, keep, other, made_by=made_by)
        return [slug], f"{other} merged into {keep}"

    return _change(slug, "speaker-merge", change, keep=keep, other=other)


@admin_speakers.post("/admin/meetings/<slug>/speakers/<label>/split")
@role_required("curator")
def split(slug: str, label: str) -> ResponseReturnValue:
    def change(session: Session, made_by: str) -> tuple[list[str], str]:
        start, end = parse_clock(_field("start") or "-"), parse_clock(_field("end") or "-")
        moved = split_speaker(session, slug, label, start, end, into_label=_field("into") or None, made_by=made_by)
        return [slug], f"{moved.moved} line(s) of {label} moved to {moved.target}"

    return _change(slug, "speaker-split", change, label=label, start=_field("start"), end=_field("end"))


@admin_speakers.post("/admin/meetings/<slug>/review")
@role_required("curator")
def review(slug: str) -> ResponseReturnValue:
    undo = request.form.get("undo") == "1"

    def change(session: Session, made_by: str) -> tuple[list[str], str]:
        if undo:
            mark_unreviewed(session, slug)
            return [], "the transcript is marked unreviewed"
        mark_reviewed(session, slug, by=made_by)
        return [], f"the transcript is marked reviewed by {made_by}"

    return _change(slug, "meeting-unreview" if undo else "meeting-review", change)


# --- people ------------------------------------------------------------------------------------------------------


def _people_page(*, error: str | None = None, done: str | None = None, status: int = 200) -> ResponseReturnValue:
    rows = (
        db()
        .execute(
            select(Person, func.count(func.distinct(Speaker.meeting_id)))
            .outerjoin(Speaker, Speaker.person_id == Person.id)
            .group_by(Person.id)
            .order_by(Person.name, Person.id)
        )
        .all()
    )
    page = render_template("admin/people.html", rows=rows, consents=CONSENT_LEVELS, error=error, done=done)
    return page, status


@admin_speakers.get("/admin/people")
@role_required("curator")
def people() -> ResponseReturnValue:
    """People: names, roles, consent, and deleting someone on request."""
    return _people_page()


@admin_speakers.post("/admin/people/<int:person_id>")
@role_required("curator")
def edit_person(person_id: int) -> ResponseReturnValue:
    user = signed_in()
    try:
        with current_app.extensions["sessions"]() as session, session.begin():
            person = update_person(
                session,
                person_id,
                name=_field("name"),
                role=_field("role"),
                affiliation=_field("affiliation"),
                consent=_field("consent") or None,
                made_by=user.email,
            )
            slugs = affected_meetings(session, [person_id])
            record(
                session,
                "person-edit",
                user=user,
                target=f"person {person_id}",
                address=address(),
                consent=person.consent,
            )
    except (InvalidInput, NotFound) as error:
        return _people_page(error=str(error), status=400)
    return _people_page(done=f"person {person_id} saved; {len(slugs)} meeting(s) re-indexed")


@admin_speakers.post("/admin/people/<int:person_id>/delete")
@role_required("curator")
def remove_person(person_id: int) -> ResponseReturnValue:
    user = signed_in()
    try:
        with current_app.extensions["sessions"]() as session, session.begin():
            person = get_person(session, person_id)
            if _field("confirm") != person.name:
                raise InvalidInput(f"delete: type their name ({person.name}) to confirm")
            slugs = affected_meetings(session, [person_id])
            delete_person(session, person, made_by=user.email)
            record(session, "person-delete", user=user, target=f"person {person_id}", address=address())
    except (InvalidInput, NotFound) as error:
        return _people_page(error=str(error), status=400)
    return _people_page(done=f"person {person_id} deleted; {len(slugs)} meeting(s) re-indexed")
