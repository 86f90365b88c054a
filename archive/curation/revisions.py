"""Revisions: every correction is kept as the rows it changed, before and after, so it can be shown and reverted.

`before` and `after` are {"segments": [row, …]} or {"agenda_items": [row, …]}: a row absent from `after` was
deleted by the change (a merge's second segment), one absent from `before` was made by it (a split's second half).
A revert restores `before` only while the rows are still exactly as `after` left them, so it never undoes a later
correction silently; it is itself a revision, and can be reverted in turn.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.accounts.users import record
from archive.db.lookups import meeting_by_slug
from archive.db.models import AgendaItem, Interpretation, Meeting, Revision, Segment, Speaker, User
from archive.db.types import utcnow
from archive.errors import InvalidInput, NotFound
from archive.privacy.ledger import refresh_public_text

# What a correction may change, compared by a revert; the rest of a row is kept only to re-create it.
SEGMENT_FIELDS = ("id", "start", "end", "text", "words", "speaker_id", "kind", "tags")
SEGMENT_EXTRA = ("recording_id", "run_id", "language", "avg_logprob", "no_speech_prob", "source")
AGENDA_FIELDS = ("id", "start", "title")
INTERPRETATION_FIELDS = ("id", "segment_id", "source_id", "status")
TABLES: dict[str, tuple[type[Segment] | type[AgendaItem] | type[Interpretation], tuple[str, ...], tuple[str, ...]]] = {
    "segments": (Segment, SEGMENT_FIELDS, SEGMENT_EXTRA),
    "agenda_items": (AgendaItem, AGENDA_FIELDS, ()),
    "interpretations": (Interpretation, INTERPRETATION_FIELDS, ()),
}
NAMES = {"segments": "segment", "agenda_items": "agenda item", "interpretations": "interpretation link"}


def snapshot(row: Segment | AgendaItem) -> dict[str, Any]:
    table = "segments" if isinstance(row, Segment) else "agenda_items"
    _, fields, extra = TABLES[table]
    values = {name: getattr(row, name) for name in (*fields, *extra)}
    if "words" in values:  # copies: the row's own lists may be changed in place afterwards
        values["words"] = [dict(word) for word in values["words"] or []]
        values["tags"] = list(values["tags"] or [])
    return values


def rows_of(state: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The table and rows of a revision's `before` or `after` (one table per revision)."""
    table, rows = next(iter(state.items()))
    return table, rows


def actor_of(user: User | None, actor: str) -> str:
    if user is None and not actor.strip():
        raise InvalidInput("say who makes the correction")
    return actor.strip() or (user.email if user is not None else "")


def add_revision(
    session: Session,
    meeting: Meeting,
    action: str,
    audit: str,
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    user: User | None,
    actor: str,
    segment_id: int | None = None,
    reverts_id: int | None = None,
) -> Revision:
    """The revision and its audit event, in the caller's transaction; touched segments are marked revised."""
    who = actor_of(user, actor)
    revision = Revision(
        meeting_id=meeting.id,
        segment_id=segment_id,
        action=action,
        before=before,
        after=after,
        user_id=user.id if user is not None else None,
        actor=who,
        reverts_id=reverts_id,
        created_at=utcnow(),
    )
    session.add(revision)
    table, rows = rows_of(after)
    if table == "segments":
        for row in rows:
            segment = session.get(Segment, row["id"])
            if segment is not None:
                segment.revised_at = revision.created_at
        session.flush()
        # Redactions in force apply to the corrected words too (the public text is derived from them).
        refresh_public_text(session, meeting)
    session.flush()
    target = f"{NAMES[table]} {segment_id}" if segment_id is not None else f"meeting {meeting.slug}"
    record(session, audit, user=user, actor=who, target=target, meeting=meeting.slug, revision=revision.id)
    return revision


def history(session: Session, meeting_slug: str) -> list[Revision]:
    """The meeting's revisions, newest first."""
    meeting = meeting_by_slug(session, meeting_slug)
    return list(
        session.scalars(select(Revision).where(Revision.meeting_id == meeting.id).order_by(Revision.id.desc())).all()
    )


def revert(session: Session, revision_id: int, *, user: User | None = None, actor: str = "") -> Revision:
    """Put back what `revision_id` changed, while nothing has changed those rows since."""
    revision = session.get(Revision, revision_id)
    if revision is None:
        raise NotFound(f"no revision {revision_id}")
    table, before = rows_of(revision.before)
    _, after = rows_of(revision.after)
    model, fields, extra = TABLES[table]
    _check_unchanged(session, revision, table, before, after)
    current = {row["id"]: session.get(model, row["id"]) for row in [*before, *after]}
    for row in after:
        if row["id"] not in {old["id"] for old in before}:
            session.delete(current[row["id"]])
    session.flush()
    for row in before:
        if table == "segments" and row["speaker_id"] is not None:
            speaker = session.get(Speaker, row["speaker_id"])
            if speaker is None or speaker.meeting_id != revision.meeting_id:
                raise InvalidInput(f"speaker {row['speaker_id']} of segment {row['id']} no longer exists")
        target = current[row["id"]]
        if target is None:
            target = model(id=row["id"], meeting_id=revision.meeting_id)
            session.add(target)
        for name in (*fields[1:], *extra):  # fields[0] is the id
            if name in row:
                setattr(target, name, row[name])
    session.flush()
    meeting = session.get_one(Meeting, revision.meeting_id)
    # Reverting the addition of a line (archive.curation.overlaps) deletes it: the revert then names no line.
    kept = revision.segment_id is not None and session.get(Segment, revision.segment_id) is not None
    return add_revision(
        session,
        meeting,
        "revert",
        "revision-revert",
        revision.after,
        revision.before,
        user=user,
        actor=actor,
        segment_id=revision.segment_id if kept else None,
        reverts_id=revision.id,
    )


def _check_unchanged(
    session: Session, revision: Revision, table: str, before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> None:
    model, fields, _ = TABLES[table]
    name = NAMES[table]
    left = {row["id"] for row in after}
    for row in after:
        found = session.get(model, row["id"])
        if found is None or any(_differs(getattr(found, field), row[field]) for field in fields):
            _refuse(session, revision, name, row["id"])
    for row in before:
        if row["id"] not in left and session.get(model, row["id"]) is not None:
            _refuse(session, revision, name, row["id"])


def _differs(value: Any, recorded: Any) -> bool:
    if isinstance(value, float) and isinstance(recorded, (int, float)):
        return abs(value - recorded) > 1e-9
    if isinstance(value, list):
        return [dict(v) if isinstance(v, dict) else v for v in value] != recorded
    return bool(value != recorded)


def _refuse(session: Session, revision: Revision, name: str, row_id: int) -> None:
    later = session.scalars(
        select(Revision)
        .where(Revision.meeting_id == revision.meeting_id, Revision.id > revision.id)
        .order_by(Revision.id.desc())
    ).all()
    for other in later:
        mentioned = {row["id"] for state in (other.before, other.after) for row in rows_of(state)[1]}
        if row_id in mentioned and rows_of(other.after)[0] == rows_of(revision.after)[0]:
            raise InvalidInput(f"{name} {row_id} was changed again since (revision {other.id}): revert that first")
    raise InvalidInput(f"{name} {row_id} was changed since this revision by something else: it cannot be reverted")
