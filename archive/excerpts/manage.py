"""Excerpts: citable spans of a meeting, their word-exact quotes and their verification.

An excerpt is (meeting, start, end) with start and end on word boundaries. Its quote is computed from the
meeting's words each time, never stored, so a correction of the transcript shows everywhere. A curator
who listened to the recording can mark it verified; the verification names the exact quote (its SHA-256)
and lapses as soon as the words differ.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from archive.db.lookups import meeting_by_slug
from archive.db.models import Body, Excerpt, Interpretation, Meeting, Recording, Segment, Speaker
from archive.db.types import utcnow
from archive.errors import InvalidInput, NotFound
from archive.privacy.view import REDACTED, Voice, public_view, silenced_ranges

MAX_SECONDS = 600.0  # a quote, not a meeting: longer spans are better cited as the meeting itself
MAX_TITLE = 200
MAX_NOTE = 5000
SLUG_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: slugs are read aloud and typed
SLUG_LENGTH = 8


@dataclass(frozen=True)
class QuotePart:
    """Consecutive words of one voice within the excerpt."""

    speaker: Voice | None  # None: no diarization
    words: list[dict[str, Any]]
    language: str | None = None  # ISO 639-1, as transcribed

    @property
    def text(self) -> str:
        return " ".join(w["word"] for w in self.words)

    @property
    def start(self) -> float:
        return self.words[0]["start"]

    @property
    def end(self) -> float:
        return self.words[-1]["end"]


@dataclass(frozen=True)
class Quote:
    parts: list[QuotePart] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(part.text for part in self.parts)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def words(self) -> list[dict[str, Any]]:
        return [w for part in self.parts for w in part.words]


def quote(session: Session, meeting_id: int, start: float, end: float) -> Quote:
    """The meeting's words whose middle lies in [start, end], grouped by voice, in time order, as published:
    withheld words are "[redacted]" and a name-withheld voice is its pseudonym (archive.privacy)."""
    segments = session.scalars(
        select(Segment)
        .where(Segment.meeting_id == meeting_id, Segment.end > start, Segment.start < end)
        .options(selectinload(Segment.speaker).selectinload(Speaker.person))
        .order_by(Segment.start, Segment.id)
    ).all()
    view = public_view(session, session.get_one(Meeting, meeting_id))
    parts: list[QuotePart] = []
    for segment in segments:
        published = view.publish(segment)
        if published is None:
            continue
        words = [w for w in published.words if start <= (w["start"] + w["end"]) / 2 <= end]
        if not words:
            continue
        speaker = published.speaker
        if parts and parts[-1].speaker == speaker and parts[-1].language == segment.language:
            parts[-1].words.extend(words)
        else:
            parts.append(QuotePart(speaker, list(words), segment.language))
    return Quote(parts)


def snap(session: Session, meeting_id: int, start: float, end: float) -> tuple[float, float]:
    """Widen a rough span to whole words: from the start of the first word it touches to the end of the last."""
    if not (0 <= start < end):
        raise InvalidInput(f"the excerpt must end after it starts (start {start:g} s, end {end:g} s)")
    touched = [
        w
        for segment in session.scalars(
            select(Segment).where(Segment.meeting_id == meeting_id, Segment.end > start, Segment.start < end)
        )
        for w in segment.words
        if w["end"] > start and w["start"] < end
    ]
    if not touched:
        raise InvalidInput(f"no words between {start:g} s and {end:g} s of this meeting")
    return min(w["start"] for w in touched), max(w["end"] for w in touched)


def recording_for(meeting: Meeting, start: float, end: float) -> Recording:
    """The recording that holds the whole span (a clip is cut from one file). Of simultaneous tracks, their mix
    (archive.ingest.mix): every voice said at the time is heard; without one (not made yet), the track whose lines
    the span quotes most wholly."""
    mix = meeting.mix
    if mix is not None and mix.offset - 0.01 <= start and end <= mix.offset + mix.duration + 0.01:
        return mix
    holding = [r for r in meeting.recordings if r.offset - 0.01 <= start and end <= r.offset + r.duration + 0.01]
    if not holding:
        raise InvalidInput("an excerpt must lie within one recording of the meeting")
    session = object_session(meeting)
    if len(holding) == 1 or session is None:
        return holding[0]
    spoken: dict[int, float] = {}
    for recording_id, line_start, line_end in session.execute(
        select(Segment.recording_id, Segment.start, Segment.end).where(
            Segment.meeting_id == meeting.id, Segment.end > start, Segment.start < end
        )
    ):
        shared = min(line_end, end) - max(line_start, start)
        # A line quoted whole counts in full, one the span only cuts into by the share quoted.
        spoken[recording_id] = spoken.get(recording_id, 0.0) + shared * shared / max(line_end - line_start, 1e-9)
    return max(holding, key=lambda r: (spoken.get(r.id, 0.0), -r.position))


def create_excerpt(
    session: Session,
    meeting_slug: str,
    start: float,
    end: float,
    title: str,
    *,
    note: str | None = None,
    created_by: str,
) -> Excerpt:
    """Make an excerpt with boundaries snapped to words; flushes, the caller commits."""
    meeting = meeting_by_slug(session, meeting_slug)
    title = (title or "").strip()
    if not title:
        raise InvalidInput("an excerpt needs a title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"the title is {len(title)} characters; the most is {MAX_TITLE}")
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput(f"the note is {len(note)} characters; the most is {MAX_NOTE}")
    start, end = snap(session, meeting.id, start, end)
    if end - start > MAX_SECONDS:
        raise InvalidInput(f"an excerpt is at most {MAX_SECONDS / 60:g} minutes; this one is {end - start:.0f} s")
    recording_for(meeting, start, end)
    excerpt = Excerpt(
        slug=_new_slug(session),
        meeting_id=meeting.id,
        start=round(start, 3),
        end=round(end, 3),
        title=title,
        note=note,
        created_by=created_by,
    )
    session.add(excerpt)
    session.flush()
    return excerpt


def _new_slug(session: Session) -> str:
    while True:
        slug = "".join(secrets.choice(SLUG_ALPHABET) for _ in range(SLUG_LENGTH))
        if session.scalar(select(Excerpt.id).where(Excerpt.slug == slug)) is None:
            return slug


def find_excerpt(session: Session, slug: str) -> Excerpt:
    excerpt = session.scalar(
        select(Excerpt)
        .where(Excerpt.slug == slug)
        .options(
            selectinload(Excerpt.meeting).selectinload(Meeting.recordings),
            selectinload(Excerpt.meeting).selectinload(Meeting.mix),  # an excerpt's clip is cut from it
            selectinload(Excerpt.meeting).selectinload(Meeting.body),
        )
    )
    if excerpt is None:
        raise NotFound(f"no excerpt {slug!r}")
    return excerpt


def find_excerpts(session: Session, text: str = "", limit: int = 10) -> list[Excerpt]:
    """Excerpts whose title, note, meeting title or body name contain `text` (any case), newest first; the
    newest of all without text. For organizers choosing evidence (the campaign form's picker): the caller
    leaves out withheld ones (is_withheld) and shows them as published (excerpt_document)."""
    query = select(Excerpt).join(Meeting, Excerpt.meeting_id == Meeting.id).join(Body, Meeting.body_id == Body.id)
    words = " ".join(text.split())[:200]
    if words:
        pattern = "%" + words.replace("\\", "").replace("%", "").replace("_", "") + "%"
        query = query.where(
            Excerpt.title.ilike(pattern)
            | Excerpt.note.ilike(pattern)
            | Meeting.title.ilike(pattern)
            | Body.name.ilike(pattern)
        )
    query = query.order_by(Excerpt.created_at.desc(), Excerpt.id.desc()).limit(limit)
    return list(session.scalars(query.options(selectinload(Excerpt.meeting))))


def verify(session: Session, excerpt: Excerpt, *, verified_by: str) -> None:
    """A curator listened to the recording and confirms these words, as they are now."""
    if not verified_by.strip():
        raise InvalidInput("say who verified the excerpt")
    excerpt.verified_quote_sha256 = quote(session, excerpt.meeting_id, excerpt.start, excerpt.end).sha256
    excerpt.verified_by = verified_by.strip()
    excerpt.verified_at = utcnow()


def is_verified(excerpt: Excerpt, current: Quote) -> bool:
    """Verified, and the words have not changed since."""
    return excerpt.verified_quote_sha256 is not None and excerpt.verified_quote_sha256 == current.sha256


class ExcerptWithheld(NotFound):
    """The excerpt overlaps the speech of a voice that asked not to be published: it is not shown at all."""


def is_withheld(session: Session, excerpt: Excerpt) -> bool:
    """Whether the excerpt overlaps a segment of an unpublished voice (or its meeting was purged)."""
    if excerpt.meeting.purged_at is not None:
        return True
    return (
        session.scalar(
            select(Segment.id)
            .join(Speaker, Speaker.id == Segment.speaker_id)
            .where(
                Segment.meeting_id == excerpt.meeting_id,
                Segment.end > excerpt.start,
                Segment.start < excerpt.end,
                Speaker.consent == "unpublished",
            )
            .limit(1)
        )
        is not None
    )


class ExcerptPart(TypedDict):
    """Consecutive words of one voice in the excerpt."""

    speaker: Voice | None
    start: float
    end: float
    text: str
    language: str | None  # ISO 639-1


class InterpretationPart(TypedDict):
    """The interpreter's rendering of the excerpt's words (a confirmed link), said after them: not a quote of
    the testimony, and never a machine translation."""

    speaker: Voice | None
    start: float
    end: float
    text: str
    language: str | None  # ISO 639-1


class ExcerptMeeting(TypedDict):
    slug: str
    title: str
    date: str  # ISO 8601
    body: str
    source_url: str | None


class RecordingRef(TypedDict):
    sha256: str
    offset: float  # where the recording starts on the meeting's timeline
    has_video: bool


class Verification(TypedDict):
    by: str | None
    at: str | None  # ISO 8601


class ExcerptDocument(TypedDict):
    """An excerpt as JSON: GET /api/excerpts/<slug>, the exports, the dump; what a citation or a card needs."""

    slug: str
    title: str
    note: str | None
    notices: list[str]  # what was withheld from the meeting and when; empty when nothing touched this excerpt
    start: float
    end: float
    quote: str
    languages: list[str]  # the languages of its words (ISO 639-1), in the order they are spoken
    parts: list[ExcerptPart]
    interpretation: list[InterpretationPart]  # the interpreter's words for the quoted ones, when linked
    speakers: list[Voice]
    meeting: ExcerptMeeting
    recording: RecordingRef
    verified: Verification | None  # null: the machine's words, not yet checked against the recording
    created_at: str | None
    url: str
    context_url: str


def excerpt_document(session: Session, excerpt: Excerpt) -> ExcerptDocument:
    """An excerpt as JSON (GET /api/excerpts/<slug>, exports): everything a citation or a card needs.

    As published (archive.privacy): withheld words are "[redacted]", also in the title and note; an excerpt
    over an unpublished voice's speech raises ExcerptWithheld.
    """
    if is_withheld(session, excerpt):
        raise ExcerptWithheld(f"no excerpt {excerpt.slug!r}")
    meeting = excerpt.meeting
    view = public_view(session, meeting)
    current = quote(session, excerpt.meeting_id, excerpt.start, excerpt.end)
    recording = recording_for(meeting, excerpt.start, excerpt.end)
    verified = is_verified(excerpt, current)
    pseudonyms = set(view.pseudonyms.values())
    redacted = (
        any(w["word"] == REDACTED for w in current.words)
        or any(p.speaker is not None and p.speaker["name"] in pseudonyms for p in current.parts)
        or any(a < excerpt.end and excerpt.start < b for a, b in silenced_ranges(session, meeting))
    )
    return {
        "slug": excerpt.slug,
        "title": view.redact_text(excerpt.title),
        "note": view.redact_text(excerpt.note) if excerpt.note else excerpt.note,
        # What was withheld from the meeting and when; empty when nothing touched this excerpt.
        "notices": view.notices if redacted else [],
        "start": excerpt.start,
        "end": excerpt.end,
        "quote": current.text,
        "languages": list(dict.fromkeys(p.language for p in current.parts if p.language)),
        "parts": [
            {"speaker": p.speaker, "start": p.start, "end": p.end, "text": p.text, "language": p.language}
            for p in current.parts
        ],
        "interpretation": interpretation_of(session, excerpt.meeting_id, excerpt.start, excerpt.end),
        "speakers": _distinct([p.speaker for p in current.parts if p.speaker]),
        "meeting": {
            "slug": meeting.slug,
            "title": view.redact_text(meeting.title),
            "date": meeting.date.isoformat(),
            "body": meeting.body.name,
            "source_url": meeting.source_url,
        },
        "recording": {"sha256": recording.sha256, "offset": recording.offset, "has_video": recording.has_video},
        "verified": (
            {"by": excerpt.verified_by, "at": excerpt.verified_at.isoformat() if excerpt.verified_at else None}
            if verified
            else None
        ),
        "created_at": excerpt.created_at.isoformat() if excerpt.created_at else None,
        "url": f"/excerpts/{excerpt.slug}",
        "context_url": f"/meetings/{meeting.slug}?t={int(excerpt.start)}",
    }


def interpretation_of(session: Session, meeting_id: int, start: float, end: float) -> list[InterpretationPart]:
    """The confirmed interpretations of lines in [start, end] that lie outside it, as published, in time order."""
    interpretations = session.scalars(
        select(Segment)
        .where(
            Segment.id.in_(
                select(Interpretation.segment_id)
                .join(Segment, Segment.id == Interpretation.source_id)
                .where(
                    Interpretation.meeting_id == meeting_id,
                    Interpretation.status == "confirmed",
                    Segment.end > start,
                    Segment.start < end,
                )
            ),
            (Segment.start >= end) | (Segment.end <= start),  # inside the span it is quoted already
        )
        .order_by(Segment.start, Segment.id)
    ).all()
    if not interpretations:
        return []
    view = public_view(session, session.get_one(Meeting, meeting_id))
    parts: list[InterpretationPart] = []
    for segment in interpretations:
        published = view.publish(segment)
        if published is not None and published.text:
            parts.append(
                {
                    "speaker": published.speaker,
                    "start": segment.start,
                    "end": segment.end,
                    "text": published.text,
                    "language": segment.language,
                }
            )
    return parts


def _distinct(speakers: list[Voice]) -> list[Voice]:
    seen: list[Voice] = []
    for speaker in speakers:
        if speaker not in seen:
            seen.append(speaker)
    return seen
