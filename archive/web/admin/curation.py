"""Curators correct transcripts: inline on the meeting page (curation.js), or on /admin pages without JavaScript.

Every change is a POST with the CSRF token, made by one call into archive.curation (a revision and an audit
event), committed, and then the meeting is re-indexed at once so search finds the corrected words. The forms
load a segment's full text from /admin/segments/<id>.json, never from the public page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from archive import curation
from archive.curation import vocabulary
from archive.curation.changes import changes
from archive.db.lookups import meeting_by_slug
from archive.db.models import SEGMENT_KINDS, AgendaItem, Body, Meeting, Recording, Revision, Segment, Speaker
from archive.errors import InvalidInput, NotFound
from archive.privacy.view import neutral_label
from archive.timecodes import parse_clock
from archive.web.context import current_user, db, role_required

curation_pages = Blueprint("curation", __name__)
MAX_VOCABULARY_CHARACTERS = 100_000  # checked before parsing: 200 terms with notes fit in a tenth of it


# --- on the public meeting page ---------------------------------------------------------------------------------


# --- helpers ----------------------------------------------------------------------------------------------------


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json"


def _speakers(meeting_id: int) -> list[Speaker]:
    return list(
        db()
        .scalars(
            select(Speaker)
            .where(Speaker.meeting_id == meeting_id)
            .options(selectinload(Speaker.person))
            .order_by(Speaker.label)
        )
        .all()
    )


def _voice(speaker: Speaker) -> str:
    """A voice as curators pick it: the person's name, else the machine's label with the one the public reads."""
    if speaker.name:
        return f"{speaker.name} ({speaker.label})"
    return f"{speaker.label} (public: {neutral_label(speaker.label)})"


def segment_json(segment: Segment) -> dict[str, Any]:
    return {
        "id": segment.id,
        "start": segment.start,
        "end": segment.end,
        "text": segment.text,
        "words": segment.words,
        "speaker_id": segment.speaker_id,
        "kind": segment.kind,
        "kind_suggested": segment.kind_suggested,
        "tags": segment.tags or [],
        "revised_at": segment.revised_at.isoformat() if segment.revised_at else None,
    }


# --- segments ---------------------------------------------------------------------------------------------------


@curation_pages.get("/admin/segments/<int:segment_id>.json")
@role_required("curator")
def segment_data(segment_id: int) -> ResponseReturnValue:
    """A line's full current text, words, voice, kind and tags, and the meeting's voices: what the form needs."""
    segment = curation.find_segment(db(), segment_id)
    following = curation.next_segment(db(), segment)
    return jsonify(
        segment=segment_json(segment),
        speakers=[{"id": s.id, "label": s.label, "name": _voice(s)} for s in _speakers(segment.meeting_id)],
        kinds=list(SEGMENT_KINDS),
        next_id=following.id if following else None,
        meeting=segment.meeting.slug,
    )


@curation_pages.get("/admin/segments/<int:segment_id>/edit")
@role_required("curator")
def segment_form(segment_id: int) -> ResponseReturnValue:
    """One line's correction form, for browsers without JavaScript."""
    return _segment_page(curation.find_segment(db(), segment_id))


def _segment_page(segment: Segment, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "admin/segment_edit.html",
            segment=segment,
            meeting=segment.meeting,
            speakers=_speakers(segment.meeting_id),
            voice=_voice,
            kinds=SEGMENT_KINDS,
            following=curation.next_segment(db(), segment),
            listen=_line_audio(segment),
            error=error,
        ),
        status,
    )


def _line_audio(segment: Segment) -> dict[str, Any]:
    """The line's span of its recording, for the player beside the form: the recording's public route with a
    media fragment (#t=start,end) in the recording's own time (a later part or a track starts at its offset)."""
    recording = db().get_one(Recording, segment.recording_id)
    start = max(segment.start - recording.offset, 0.0)
    end = max(segment.end - recording.offset, start)
    route = url_for("pages.recording", slug=segment.meeting.slug, position=recording.position, suffix=recording.suffix)
    return {"src": f"{route}#t={start:.2f},{end:.2f}", "track": recording.track}


@curation_pages.post("/admin/segments/<int:segment_id>")
@role_required("curator")
def segment_update(segment_id: int) -> ResponseReturnValue:
    """Apply the form: save (text, voice, kind, tags: one revision each that changed), split or merge."""
    form, user, session = request.form, current_user(), db()
    segment = curation.find_segment(session, segment_id)
    slug = segment.meeting.slug
    action = form.get("action", "save")
    try:
        if action == "split":
            try:
                at_word = int(form.get("at_word", ""))
            except ValueError:
                raise InvalidInput("at_word: choose the word the second line starts with") from None
            target = curation.split_segment(session, segment_id, at_word, user=user)[0]
        elif action == "merge":
            following = curation.next_segment(session, segment)
            if following is None:
                raise InvalidInput("merge: this is the meeting's last line")
            chosen = form.get("merge_speaker", "")
            target = curation.merge_segments(
                session, segment_id, following.id, speaker_id=int(chosen) if chosen.isdigit() else None, user=user
            )
        elif action == "save":
            target = _save(segment, form, user)
        else:
            raise InvalidInput(f"action: {action!r} is not one of save, split, merge")
        session.commit()
    except InvalidInput as error:
        session.rollback()
        if _wants_json():
            return jsonify(error=str(error)), 400
        return _segment_page(curation.find_segment(session, segment_id), str(error), 400)
    back = url_for("pages.meeting", slug=slug, _anchor=f"s{target.id}")
    if _wants_json():
        # A split or a merge changes several lines: the page is reloaded; a save updates the line in place.
        return jsonify(segment=segment_json(target), reload=action != "save", url=back)
    return redirect(back, 303)


def _save(segment: Segment, form: Any, user: Any) -> Segment:
    session, changed = db(), 0
    if "text" in form and " ".join(form["text"].split()) != segment.text:
        curation.edit_text(session, segment.id, form["text"], user=user)
        changed += 1
    speaker = form.get("speaker", "")
    if speaker:
        if not speaker.isdigit():
            raise InvalidInput(f"speaker: {speaker!r} is not a voice of this meeting")
        if int(speaker) != segment.speaker_id:
            curation.set_speaker(session, segment.id, int(speaker), user=user)
            changed += 1
    # A suggested kind saved as it is becomes the curator's (the form says so beside it).
    if "kind" in form and ((form["kind"] or None) != segment.kind or (segment.kind_suggested and form["kind"])):
        curation.set_kind(session, segment.id, form["kind"] or None, user=user)
        changed += 1
    if "tags" in form and curation.parse_tags(form["tags"]) != list(segment.tags or []):
        curation.set_tags(session, segment.id, form["tags"], user=user)
        changed += 1
    if not changed:
        raise InvalidInput("nothing changed")
    return segment


# --- meetings ---------------------------------------------------------------------------------------------------


@curation_pages.get("/admin/meetings")
@role_required("curator")
def meetings() -> ResponseReturnValue:
    """Meetings: correct transcripts, name agenda items, see and revert every correction."""
    counts = dict(
        db().execute(select(Revision.meeting_id, func.count(Revision.id)).group_by(Revision.meeting_id)).all()
    )
    rows = db().scalars(select(Meeting).options(selectinload(Meeting.body)).order_by(Meeting.date.desc())).all()
    return render_template("admin/curation_meetings.html", meetings=rows, counts=counts)


@curation_pages.get("/admin/meetings/<slug>/edit")
@role_required("curator")
def meeting_edit(slug: str) -> ResponseReturnValue:
    """Every line with a link to its form, and the agenda editor."""
    return _meeting_page(meeting_by_slug(db(), slug))


def _meeting_page(meeting: Meeting, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    segments = db().scalars(
        select(Segment)
        .where(Segment.meeting_id == meeting.id)
        .options(selectinload(Segment.speaker).selectinload(Speaker.person))
        .order_by(Segment.start, Segment.id)
    )
    return (
        render_template(
            "admin/meeting_edit.html",
            meeting=meeting,
            segments=segments.all(),
            items=curation.agenda(db(), meeting.id),
            runs=_runs(meeting),
            voice=_voice,
            error=error,
            done=request.args.get("done"),
        ),
        status,
    )


def _runs(meeting: Meeting) -> list[Any]:
    """The transcription runs behind the meeting's segments, with what guided them (the transcript's details)."""
    recordings = db().scalars(
        select(Recording).where(Recording.meeting_id == meeting.id).options(selectinload(Recording.runs))
    )
    return [(recording, run) for recording in recordings for run in recording.runs]


def _agenda_change(meeting: Meeting, change: Any) -> ResponseReturnValue:
    try:
        change()
        db().commit()
    except InvalidInput as error:
        db().rollback()
        return _meeting_page(meeting, str(error), 400)
    return redirect(url_for("curation.meeting_edit", slug=meeting.slug, done="agenda", _anchor="agenda"), 303)


def _start(value: str) -> float:
    try:
        return parse_clock(value)
    except InvalidInput as error:
        raise InvalidInput(f"start: {error}") from None


@curation_pages.post("/admin/meetings/<slug>/agenda")
@role_required("curator")
def agenda_add(slug: str) -> ResponseReturnValue:
    meeting, form = meeting_by_slug(db(), slug), request.form
    return _agenda_change(
        meeting,
        lambda: curation.add_agenda_item(
            db(), slug, _start(form.get("start", "")), form.get("title", ""), user=current_user()
        ),
    )


def _item(item_id: int) -> tuple[AgendaItem, Meeting]:
    item = db().get(AgendaItem, item_id)
    if item is None:
        raise NotFound(f"no agenda item {item_id}")
    return item, db().get_one(Meeting, item.meeting_id)


@curation_pages.post("/admin/agenda/<int:item_id>")
@role_required("curator")
def agenda_edit(item_id: int) -> ResponseReturnValue:
    (_, meeting), form = _item(item_id), request.form
    return _agenda_change(
        meeting,
        lambda: curation.edit_agenda_item(
            db(), item_id, _start(form.get("start", "")), form.get("title", ""), user=current_user()
        ),
    )


@curation_pages.post("/admin/agenda/<int:item_id>/delete")
@role_required("curator")
def agenda_delete(item_id: int) -> ResponseReturnValue:
    _, meeting = _item(item_id)
    return _agenda_change(meeting, lambda: curation.delete_agenda_item(db(), item_id, user=current_user()))


# --- history ----------------------------------------------------------------------------------------------------


@curation_pages.get("/admin/meetings/<slug>/history")
@role_required("curator")
def meeting_history(slug: str) -> ResponseReturnValue:
    """Every correction of the meeting, newest first, each with a Revert button."""
    return _history_page(meeting_by_slug(db(), slug))


def _history_page(meeting: Meeting, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    revisions = curation.history(db(), meeting.slug)
    voices = {s.id: _voice(s) for s in _speakers(meeting.id)}
    return (
        render_template(
            "admin/history.html",
            meeting=meeting,
            revisions=[(revision, changes(revision)) for revision in revisions],
            voices=voices,
            error=error,
            done=request.args.get("done"),
        ),
        status,
    )


@curation_pages.post("/admin/revisions/<int:revision_id>/revert")
@role_required("curator")
def revert(revision_id: int) -> ResponseReturnValue:
    revision = db().get(Revision, revision_id)
    if revision is None:
        raise NotFound(f"no revision {revision_id}")
    meeting = db().get_one(Meeting, revision.meeting_id)
    try:
        made = curation.revert(db(), revision_id, user=current_user())
        db().commit()
    except InvalidInput as error:
        db().rollback()
        return _history_page(meeting, str(error), 400)
    return redirect(url_for("curation.meeting_history", slug=meeting.slug, done=made.id), 303)


# --- interpretation links ---------------------------------------------------------------------------------------


@curation_pages.post("/admin/segments/<int:segment_id>/interpretation")
@role_required("curator")
def interpretation_update(segment_id: int) -> ResponseReturnValue:
    """Confirm, change or remove the lines a line interprets: `sources` lists their ids (empty: none)."""
    from archive.curation.interpretations import set_interpretation

    session = db()
    segment = curation.find_segment(session, segment_id)
    slug = segment.meeting.slug
    remove = request.form.get("action") == "remove"
    words = [] if remove else request.form.get("sources", "").replace(",", " ").split()
    try:
        if len(words) > 50 or not all(word.isdigit() and len(word) < 12 for word in words):
            raise InvalidInput("sources: the ids of lines of this meeting, separated by spaces")
        set_interpretation(session, segment_id, [int(word) for word in words], user=current_user())
        session.commit()
    except InvalidInput as error:
        session.rollback()
        if _wants_json():
            return jsonify(error=str(error)), 400
        return _segment_page(curation.find_segment(session, segment_id), str(error), 400)
    back = url_for("pages.meeting", slug=slug, _anchor=f"s{segment_id}")
    if _wants_json():
        return jsonify(url=back, reload=True)
    return redirect(back, 303)


# --- vocabularies -----------------------------------------------------------------------------------------------


@curation_pages.get("/admin/vocabulary")
@role_required("curator")
def vocabularies() -> ResponseReturnValue:
    """Vocabularies: the names and places that guide each body's transcriptions."""
    bodies = db().scalars(select(Body).order_by(Body.name)).all()
    return render_template("admin/vocabularies.html", bodies=bodies, sizes=vocabulary.vocabulary_sizes(db()))


@curation_pages.get("/admin/bodies/<slug>/vocabulary")
@role_required("curator")
def vocabulary_form(slug: str) -> ResponseReturnValue:
    return _vocabulary_page(vocabulary.find_body(db(), slug))


def _vocabulary_page(body: Body, text: str | None = None, error: str | None = None, status: int = 200) -> Any:
    terms = vocabulary.terms_of(db(), body)
    glossary = vocabulary.body_glossary(db(), body.name)
    return (
        render_template(
            "admin/vocabulary.html",
            body=body,
            text=vocabulary.as_text(terms) if text is None else text,
            glossary=glossary,
            error=error,
            done=request.args.get("done"),
        ),
        status,
    )


@curation_pages.post("/admin/bodies/<slug>/vocabulary")
@role_required("curator")
def vocabulary_update(slug: str) -> ResponseReturnValue:
    body, text = vocabulary.find_body(db(), slug), request.form.get("terms", "")
    if len(text) > MAX_VOCABULARY_CHARACTERS:
        return _vocabulary_page(body, "", f"terms: longer than {MAX_VOCABULARY_CHARACTERS:,} characters", 400)
    try:
        vocabulary.set_vocabulary(db(), body, text, user=current_user())
        db().commit()
    except InvalidInput as error:
        db().rollback()
        return _vocabulary_page(body, text, str(error), 400)
    return redirect(url_for("curation.vocabulary_form", slug=body.slug, done="1"), 303)
