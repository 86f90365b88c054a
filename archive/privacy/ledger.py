"""The redaction ledger's operations: each appends a Redaction row (never changes one) and an audit event.

They take a Session and flush; the caller commits. The search index (and its files' bytes) follows by itself
after the commit (archive.search.sync); the files that may still hold what is withheld (the index's bytes, the bulk
downloads, clips and cards) are rewritten by the worker (a "dumps" job, archive.worker.rewrite).
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.accounts import users as accounts
from archive.db.lookups import meeting_by_slug
from archive.db.models import SPEAKER_CONSENTS, Job, Meeting, Redaction, Segment, Speaker, User
from archive.errors import InvalidInput, NotFound
from archive.privacy.view import IN_FILE_NAMES, public_view, redact_phrases, withheld_phrases

MAX_PHRASE = 200
MAX_TEXT = 2000


def _live_meeting(session: Session, slug: str) -> Meeting:
    meeting = meeting_by_slug(session, slug)
    if meeting.purged_at is not None:
        raise InvalidInput(f"meeting {slug!r} was purged: there is nothing left to redact")
    return meeting


def _who(reason: str, requested_by: str, approved_by: str) -> dict[str, str]:
    """The ledger's why and who: each required, so every row can be accounted for later."""
    values = {"reason": reason, "requested_by": requested_by, "approved_by": approved_by}
    for name, value in values.items():
        value = (value or "").strip()
        if not value:
            raise InvalidInput(f"{name.replace('_', ' ')}: say {'why' if name == 'reason' else 'who'}")
        if len(value) > MAX_TEXT:
            raise InvalidInput(f"{name.replace('_', ' ')}: at most {MAX_TEXT} characters")
        values[name] = value
    return values


def _append(session: Session, action: str, user: User | None, meeting: Meeting | None, **columns: Any) -> Redaction:
    row = Redaction(meeting_id=meeting.id if meeting else None, user_id=user.id if user else None, **columns)
    session.add(row)
    _queue_rewrite(session, meeting)
    session.flush()
    detail = {k: v for k, v in columns.items() if k in ("scope", "consent", "start", "end", "lifts_id")}
    accounts.record(
        session,
        action,
        user=user,
        actor="" if user else "cli",
        target=f"meeting:{meeting.slug}" if meeting else "",
        redaction=row.id,
        **detail,
    )
    return row


def _queue_rewrite(session: Session, meeting: Meeting | None) -> None:
    """The public view follows this change at once; files may still hold what it withholds (the search index's
    bytes, the bulk downloads, clips and cards made before it): the worker rewrites them (a "dumps" job,
    archive.worker.rewrite), queued in this transaction so it cannot be forgotten. One waiting job serves any
    number of changes; its parameters list the meetings they touched."""
    waiting = session.scalar(select(Job).where(Job.kind == "dumps", Job.status == "queued").order_by(Job.id))
    if waiting is None:
        waiting = Job(kind="dumps", parameters={"meetings": []}, created_by="privacy")
        session.add(waiting)
    touched = list(waiting.parameters.get("meetings") or [])
    if meeting is not None and meeting.id not in touched:
        waiting.parameters = {**waiting.parameters, "meetings": [*touched, meeting.id]}


def set_consent(
    session: Session,
    meeting_slug: str,
    speaker_label: str,
    consent: str,
    *,
    reason: str,
    requested_by: str,
    approved_by: str,
    user: User | None,
) -> Redaction:
    """What one voice of a meeting agreed to (SPEAKER_CONSENTS); public surfaces follow at once."""
    if consent not in SPEAKER_CONSENTS:
        raise InvalidInput(f"consent must be one of: {', '.join(SPEAKER_CONSENTS)}")
    meeting = _live_meeting(session, meeting_slug)
    speaker = session.scalar(select(Speaker).where(Speaker.meeting_id == meeting.id, Speaker.label == speaker_label))
    if speaker is None:
        raise NotFound(f"meeting {meeting_slug!r} has no voice {speaker_label!r}")
    who = _who(reason, requested_by, approved_by)
    speaker.consent = consent
    row = _append(
        session, "consent-change", user, meeting, speaker_id=speaker.id, scope="consent", consent=consent, **who
    )
    refresh_public_text(session, meeting)
    return row


def redact_range(
    session: Session,
    meeting_slug: str,
    start: float,
    end: float,
    *,
    reason: str,
    requested_by: str,
    approved_by: str,
    user: User | None,
) -> Redaction:
    """Withhold every word in [start, end] seconds and silence that span in the public recording and clips."""
    meeting = _live_meeting(session, meeting_slug)
    if not (math.isfinite(start) and math.isfinite(end) and 0 <= start < end):
        raise InvalidInput(f"start, end: the range must end after it starts (start {start:g} s, end {end:g} s)")
    who = _who(reason, requested_by, approved_by)
    row = _append(
        session, "redaction-add", user, meeting, scope="range", start=round(start, 3), end=round(end, 3), **who
    )
    refresh_public_text(session, meeting)
    return row


def redact_phrase(
    session: Session,
    meeting_slug: str,
    phrase: str,
    *,
    reason: str,
    requested_by: str,
    approved_by: str,
    user: User | None,
) -> Redaction:
    """Withhold every whole-word occurrence of a phrase (a name said aloud), in text and in the audio."""
    meeting = _live_meeting(session, meeting_slug)
    phrase = " ".join((phrase or "").split())
    if not any(c.isalnum() for c in phrase):
        raise InvalidInput("phrase: give the words to withhold, e.g. a name")
    if len(phrase) > MAX_PHRASE:
        raise InvalidInput(f"phrase: at most {MAX_PHRASE} characters")
    who = _who(reason, requested_by, approved_by)
    row = _append(session, "redaction-add", user, meeting, scope="phrase", phrase=phrase, **who)
    refresh_public_text(session, meeting)
    return row


def lift(session: Session, redaction_id: int, *, reason: str, user: User | None) -> Redaction:
    """Withdraw a range or phrase redaction: a "lift" row; the original stays in the ledger."""
    original = session.get(Redaction, redaction_id) if 0 < redaction_id < 2**31 else None
    if original is None:
        raise NotFound(f"no redaction {redaction_id}")
    if original.scope not in ("range", "phrase"):
        raise InvalidInput(
            f"redaction {redaction_id} is a {original.scope} entry: change a voice's consent instead of lifting it"
            if original.scope == "consent"
            else f"redaction {redaction_id} is a {original.scope} entry and cannot be lifted"
        )
    if session.scalar(select(Redaction.id).where(Redaction.lifts_id == original.id)) is not None:
        raise InvalidInput(f"redaction {redaction_id} was already lifted")
    meeting = session.get(Meeting, original.meeting_id) if original.meeting_id else None
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason: say why the redaction is lifted")
    row = _append(
        session, "redaction-lift", user, meeting, scope="lift", lifts_id=original.id, reason=reason[:MAX_TEXT]
    )
    if meeting is not None:
        refresh_public_text(session, meeting)
    return row


def refresh_public_text(session: Session, meeting: Meeting) -> int:
    """Set each segment's `public_text` (PostgreSQL's search vector reads it): "" when withheld, None when as is.

    Call after anything that changes a meeting's segments or redactions; returns how many changed.
    """
    view = public_view(session, meeting)
    changed = 0
    for segment in session.scalars(select(Segment).where(Segment.meeting_id == meeting.id)):
        published = view.publish(segment)
        value = "" if published is None else (published.text if published.text != segment.text else None)
        if segment.public_text != value:
            segment.public_text = value
            changed += 1
    session.flush()
    return changed


def withhold_in_jobs(session: Session) -> int:
    """Finished jobs keep what a curator typed or sent with an upload (the meeting's title, the file's name): a phrase
    withheld in their meeting is withheld there too. Unfinished ones still need theirs; the worker calls this after
    every ledger change (archive.worker.rewrite), when they have usually finished. Returns how many changed."""
    phrases = withheld_phrases(session)
    changed = 0
    if not phrases:
        return changed
    finished = select(Job).where(Job.meeting_id.in_(list(phrases)), Job.status.in_(("done", "failed")))
    for job in session.scalars(finished):
        parameters = _withheld(job.parameters, phrases[job.meeting_id or 0])
        error = redact_phrases(job.error, phrases[job.meeting_id or 0]) if job.error else job.error
        if (parameters, error) != (job.parameters, job.error):
            job.parameters, job.error = parameters, error
            changed += 1
    session.flush()
    return changed


def _withheld(value: Any, phrases: list[str]) -> Any:
    """Every text in a job's parameters (nested lists and objects too) with these phrases withheld, also as they
    are written in a file's name."""
    if isinstance(value, str):
        return redact_phrases(value, phrases, between=IN_FILE_NAMES)
    if isinstance(value, list):
        return [_withheld(item, phrases) for item in value]
    if isinstance(value, dict):
        return {key: _withheld(item, phrases) for key, item in value.items()}
    return value


def ledger(
    session: Session, *, meeting_slug: str | None = None, scope: str | None = None, limit: int = 200
) -> list[tuple[Redaction, Meeting | None]]:
    """Ledger rows newest first, optionally of one meeting or one scope."""
    query = select(Redaction, Meeting).outerjoin(Meeting, Meeting.id == Redaction.meeting_id)
    if meeting_slug:
        query = query.where(Meeting.slug == meeting_slug)
    if scope:
        query = query.where(Redaction.scope == scope)
    return [(r, m) for r, m in session.execute(query.order_by(Redaction.id.desc()).limit(limit)).all()]


def lifted_ids(session: Session) -> set[int]:
    return set(session.scalars(select(Redaction.lifts_id).where(Redaction.lifts_id.is_not(None))))
