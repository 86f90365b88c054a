"""A meeting's public document (the API's meeting document, docs/api.md) and its excerpts' — the one context
that every format renders (archive.publish.formats). Speakers appear by their public name (an anonymous person's
role), or by their label while nobody has named them; embeddings and voice prints never leave the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from archive.curation.interpretations import confirmed_links
from archive.curation.overlaps import meeting_overlaps, overlapping_ids
from archive.curation.review import Review, review_of
from archive.db.lookups import meeting_by_slug, meeting_gaps
from archive.db.models import Excerpt, Meeting, Segment, Speaker
from archive.excerpts.manage import ExcerptDocument, excerpt_document, is_withheld
from archive.privacy.view import PublicView, Voice, public_view


class MeetingInfo(TypedDict):
    slug: str
    title: str
    date: str  # ISO 8601
    body: str
    source_url: str | None
    duration: float  # seconds, all its recordings


class MeetingVoice(TypedDict):
    """A voice of the meeting (Voice, archive.privacy) with its talk time and how it was attributed."""

    label: str
    name: str | None
    role: str | None
    person_id: int | None
    talk_time: float
    attribution: str | None  # how the person was named; null when the public may not know who it is


class Line(TypedDict):
    """A published segment: its words as published (withheld ones are "[redacted]")."""

    id: int
    start: float
    end: float
    speaker: Voice | None
    kind: str | None
    kind_suggested: bool  # the kind is the archive's suggestion from roles and the agenda, not a curator's
    tags: list[str]
    language: str | None
    text: str
    words: list[dict[str, Any]]  # {"word", "start", "end", "probability"}
    source: str | None  # null: the machine's transcript; "curator": transcribed by a curator from the recording
    overlaps: list[int]  # the ids of other voices' lines said at the same time (both kept)

    # The lines this one interprets (an interpreter's rendering, confirmed by a curator); [] for most lines.
    interpretation_of: list[int]


class OverlapInfo(TypedDict):
    """A stretch of a mixed recording where two or more voices speak at once (archive.curation.overlaps)."""

    start: float
    end: float
    voices: list[str]  # the voices' public names, else their labels (SPEAKER_01: data keeps the machine's label)
    speakers: list[Voice]
    reviewed: bool  # a curator has listened to it


class Gap(TypedDict):
    """Speech that transcription heard and could not transcribe (archive.transcribe.gaps)."""

    start: float
    end: float
    reason: str  # "speech not transcribed — Spanish? re-run with --languages en,es"
    language: str  # the language heard there, "" when no model could tell


class MeetingDocument(TypedDict):
    """A meeting as JSON (PRODUCT.md §4): GET /api/meetings/<slug>, `testimony export --format json`, the dump."""

    meeting: MeetingInfo
    reviewed: Review | None  # {"by", "at"} once a person has reviewed the transcript
    languages: list[str]  # ISO 639-1 codes of its segments, the most spoken first
    speakers: list[MeetingVoice]
    segments: list[Line]
    overlaps: list[OverlapInfo]
    gaps: list[Gap]  # speech not transcribed, by time
    notices: list[str]  # what was withheld at a speaker's request, and when


def meeting_document(session: Session, slug: str) -> MeetingDocument:
    """The meeting as the API and `testimony export --format json` give it."""
    # One query per relation, not one per segment: a long meeting has thousands of segments.
    meeting = meeting_by_slug(
        session,
        slug,
        selectinload(Meeting.speakers).selectinload(Speaker.person),
        selectinload(Meeting.recordings),
        selectinload(Meeting.body),
    )
    # Consent and redactions (archive.privacy) applied here, once, for every renderer and the API.
    view = public_view(session, meeting)
    published = [p for p in (view.publish(s) for s in segment_rows(session, meeting)) if p is not None]
    crossing = overlapping_ids(
        [(p.segment.id, p.segment.start, p.segment.end, p.segment.speaker_id) for p in published]
    )
    shown = {p.segment.id for p in published}
    interprets = confirmed_links(session, meeting.id)
    talk_time: dict[int, float] = {}
    for item in published:
        segment = item.segment
        if segment.speaker_id is not None:
            talk_time[segment.speaker_id] = talk_time.get(segment.speaker_id, 0.0) + segment.end - segment.start
    return {
        "meeting": {
            "slug": meeting.slug,
            "title": view.redact_text(meeting.title),
            "date": meeting.date.isoformat(),
            "body": meeting.body.name,
            "source_url": meeting.source_url,
            "duration": round(meeting.duration, 3),
        },
        # {"by", "at"} once a person has reviewed the transcript; null: the unreviewed machine transcript.
        "reviewed": review_of(meeting),
        "languages": _languages(published),
        "speakers": [
            _meeting_voice(view, s, talk_time.get(s.id, 0.0))
            for s in meeting.speakers
            if view.consents.get(s.id) != "unpublished"
        ],
        "segments": [
            {
                "id": p.segment.id,
                "start": p.segment.start,
                "end": p.segment.end,
                "speaker": p.speaker,
                "kind": p.segment.kind,
                "kind_suggested": bool(p.segment.kind_suggested),
                "tags": p.segment.tags,
                "language": p.segment.language,
                "text": p.text,
                "words": p.words,
                "source": p.segment.source,
                "overlaps": crossing.get(p.segment.id, []),
                "interpretation_of": [i for i in interprets.get(p.segment.id, []) if i in shown],
            }
            for p in published
        ],
        "overlaps": _overlaps(session, view, meeting),
        "gaps": [
            Gap(start=g["start"], end=g["end"], reason=g["reason"], language=g.get("language") or "")
            for g in meeting_gaps(session, meeting)
        ],
        # What was withheld and when, in words ("A portion was redacted at the speaker's request on …").
        "notices": view.notices,
    }


def _overlaps(session: Session, view: PublicView, meeting: Meeting) -> list[OverlapInfo]:
    by_label = {s.label: s for s in meeting.speakers if view.consents.get(s.id) != "unpublished"}
    found: list[OverlapInfo] = []
    for overlap in meeting_overlaps(session, meeting.id):
        speakers = [v for v in (view.voice(by_label[label]) for label in overlap.voices if label in by_label) if v]
        if not speakers:
            continue
        found.append(
            {
                "start": overlap.start,
                "end": overlap.end,
                "voices": [v["name"] or v["label"] for v in speakers],
                "speakers": speakers,
                "reviewed": overlap.reviewed_at is not None,
            }
        )
    return found


def _languages(published: list[Any]) -> list[str]:
    seconds: dict[str, float] = {}
    for item in published:
        if item.segment.language:
            language = item.segment.language
            seconds[language] = seconds.get(language, 0.0) + item.segment.end - item.segment.start
    return sorted(seconds, key=lambda language: -seconds[language])


def _meeting_voice(view: PublicView, speaker: Speaker, talk_time: float) -> MeetingVoice:
    voice = view.voice(speaker)
    assert voice is not None  # a speaker always has a voice
    return MeetingVoice(
        label=voice["label"],
        name=voice["name"],
        role=voice["role"],
        person_id=voice["person_id"],
        talk_time=round(talk_time, 1),
        attribution=speaker.attribution if view.names_person(speaker) else None,
    )


@dataclass(frozen=True, slots=True)
class SegmentRow:
    """A segment's columns as its meeting's transcript shows them, read without the ORM.

    Building 2,000 ORM objects (and reading their instrumented attributes) was half the time of a 2,000-line
    meeting's page; archive.privacy's view reads these the same way it reads a Segment."""

    id: int
    speaker_id: int | None
    start: float
    end: float
    text: str
    words: list[dict[str, Any]]
    kind: str | None
    kind_suggested: bool
    tags: list[str]
    language: str | None
    source: str | None
    speaker: Speaker | None


def segment_rows(session: Session, meeting: Meeting) -> list[SegmentRow]:
    """The meeting's segments in order (as Meeting.segments), each with its voice from meeting.speakers."""
    voices = {speaker.id: speaker for speaker in meeting.speakers}
    rows = session.execute(
        select(
            Segment.id,
            Segment.speaker_id,
            Segment.start,
            Segment.end,
            Segment.text,
            Segment.words,
            Segment.kind,
            Segment.kind_suggested,
            Segment.tags,
            Segment.language,
            Segment.source,
        )
        .where(Segment.meeting_id == meeting.id)
        .order_by(Segment.start, Segment.id)
    )
    return [
        SegmentRow(
            **row._asdict(),
            speaker=None
            if row.speaker_id is None
            else voices.get(row.speaker_id) or session.get(Speaker, row.speaker_id),
        )
        for row in rows
    ]


# --- excerpts ----------------------------------------------------------------------------------------------


def excerpt_query(meeting_slug: str | None = None) -> Select[Excerpt]:
    """Excerpts newest first, with what their documents read loaded in a few queries."""
    query = (
        select(Excerpt)
        .join(Meeting)
        .options(
            selectinload(Excerpt.meeting).selectinload(Meeting.recordings),
            selectinload(Excerpt.meeting).selectinload(Meeting.mix),  # an excerpt's clip is cut from it
            selectinload(Excerpt.meeting).selectinload(Meeting.body),
        )
        .order_by(Excerpt.created_at.desc(), Excerpt.id.desc())
    )
    return query.where(Meeting.slug == meeting_slug) if meeting_slug else query


def excerpt_documents(
    session: Session, *, meeting_slug: str | None = None, base_url: str = "", offset: int = 0, limit: int | None = None
) -> list[ExcerptDocument]:
    """Excerpts as their JSON documents, newest first; with a base URL their links are absolute."""
    if meeting_slug:
        meeting_by_slug(session, meeting_slug)  # NotFound for a slug that names no meeting
    query = excerpt_query(meeting_slug).offset(offset).limit(limit)
    # An excerpt over an unpublished voice's speech is left out (archive.privacy).
    rows = [row for row in session.scalars(query) if not is_withheld(session, row)]
    return [absolute_links(excerpt_document(session, row), base_url) for row in rows]


def absolute_links(document: ExcerptDocument, base_url: str) -> ExcerptDocument:
    """An excerpt document whose url and context_url start with the site's address (when one is known)."""
    base = base_url.rstrip("/")
    return {**document, "url": base + document["url"], "context_url": base + document["context_url"]}
