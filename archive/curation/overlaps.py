"""Overlapping speech: the stretches diarization heard two voices at once, a curator's review of each, and the
lines a curator transcribes from the recording there (a remark said over testimony, from an open microphone).

An added line is a segment like any other (searched, excerpted, cited, corrected, reverted) whose `source` says
a person transcribed it; it is made by one revision and one audit event, in the caller's transaction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.accounts.users import record
from archive.curation.revisions import actor_of, add_revision, snapshot
from archive.curation.segments import parse_tags
from archive.curation.words import clean_text, realign
from archive.db.lookups import meeting_by_slug
from archive.db.models import (
    SEGMENT_KINDS,
    SOURCE_CURATOR,
    Meeting,
    Overlap,
    Recording,
    Revision,
    Segment,
    Speaker,
    TranscriptionRun,
    User,
)
from archive.db.types import utcnow
from archive.errors import InvalidInput, NotFound

PROVENANCE = {SOURCE_CURATOR: "transcribed by a curator from the recording"}
MAX_LINE_SECONDS = 120.0  # an added line is a remark or an answer, not a stretch of the meeting
NEW_VOICE = "new"  # the speaker field's value for "a voice diarization did not find"


def overlapping_ids(lines: Sequence[tuple[int, float, float, int | None]]) -> dict[int, list[int]]:
    """For lines (id, start, end, speaker id) in start order: each line's id → the ids of the lines of another
    voice that overlap it in time by at least a quarter of a second."""
    found: dict[int, list[int]] = {}
    for i, (first, start, end, speaker) in enumerate(lines):
        for second, other_start, other_end, other_speaker in lines[i + 1 :]:
            if other_start >= end:
                break
            if other_speaker != speaker and min(end, other_end) - max(start, other_start) >= 0.25:
                found.setdefault(first, []).append(second)
                found.setdefault(second, []).append(first)
    return found


def meeting_overlaps(session: Session, meeting_id: int) -> list[Overlap]:
    return list(
        session.scalars(select(Overlap).where(Overlap.meeting_id == meeting_id).order_by(Overlap.start, Overlap.id))
    )


def unreviewed_overlaps(session: Session, limit: int = 200) -> list[Overlap]:
    """Overlaps nobody has listened to yet, newest meetings first (purged meetings have none to hear)."""
    return list(
        session.scalars(
            select(Overlap)
            .join(Meeting, Meeting.id == Overlap.meeting_id)
            .where(Overlap.reviewed_at.is_(None), Meeting.purged_at.is_(None))
            .options(selectinload(Overlap.meeting))
            .order_by(Meeting.date.desc(), Meeting.id, Overlap.start)
            .limit(limit)
        )
    )


def find_overlap(session: Session, overlap_id: int) -> Overlap:
    overlap = session.get(Overlap, overlap_id)
    if overlap is None:
        raise NotFound(f"no overlap {overlap_id}")
    return overlap


def mark_overlap_reviewed(
    session: Session, overlap_id: int, *, user: User | None = None, actor: str = "", reviewed: bool = True
) -> Overlap:
    """A person listened to the overlap (or, `reviewed=False`, it goes back on the list)."""
    overlap = find_overlap(session, overlap_id)
    who = actor_of(user, actor)
    overlap.reviewed_at = utcnow() if reviewed else None
    overlap.reviewed_by = who if reviewed else None
    session.flush()
    record(
        session,
        "overlap-reviewed" if reviewed else "overlap-unreviewed",
        user=user,
        actor=who,
        target=f"overlap {overlap.id}",
        meeting=overlap.meeting.slug,
    )
    return overlap


def add_overlapping_line(
    session: Session,
    meeting_slug: str,
    *,
    text: str,
    start: float,
    end: float,
    speaker: str | int | None = None,
    kind: str | None = None,
    tags: str | Sequence[str] = (),
    overlap_id: int | None = None,
    user: User | None = None,
    actor: str = "",
) -> Revision:
    """A line a curator heard in the recording and the machine did not write (a voice under another voice).

    `speaker`: a voice of the meeting (its id), NEW_VOICE for one diarization did not find, or None. Its words
    share [start, end] evenly; an overlap given is marked reviewed with it.
    """
    meeting = meeting_by_slug(session, meeting_slug)
    start, end = _span(meeting, start, end)
    text = clean_text(text, field="words")
    kind = (kind or "").strip() or None
    if kind is not None and kind not in SEGMENT_KINDS:
        raise InvalidInput(f"kind: {kind!r} is not one of: {', '.join(SEGMENT_KINDS)}")
    cleaned_tags = parse_tags(tags)
    recording = _recording_at(session, meeting, start, end)
    run_id = session.scalar(
        select(TranscriptionRun.id)
        .where(TranscriptionRun.recording_id == recording.id)
        .order_by(TranscriptionRun.id.desc())
        .limit(1)
    )
    if run_id is None:
        raise InvalidInput("this recording has no transcript yet: transcribe it before adding lines to it")
    voice = _voice(session, meeting, speaker, user, actor)
    segment = Segment(
        meeting_id=meeting.id,
        recording_id=recording.id,
        run_id=run_id,
        speaker_id=voice.id if voice is not None else None,
        start=start,
        end=end,
        text=text,
        words=realign([], text, start, end),
        language=None,
        kind=kind,
        tags=cleaned_tags,
        source=SOURCE_CURATOR,
    )
    session.add(segment)
    session.flush()
    revision = add_revision(
        session,
        meeting,
        "add",
        "segment-add",
        {"segments": []},
        {"segments": [snapshot(segment)]},
        user=user,
        actor=actor,
        segment_id=segment.id,
    )
    if overlap_id is not None:
        overlap = find_overlap(session, overlap_id)
        if overlap.meeting_id != meeting.id:
            raise InvalidInput(f"overlap: {overlap_id} is not an overlap of this meeting")
        if overlap.reviewed_at is None:
            mark_overlap_reviewed(session, overlap_id, user=user, actor=actor)
    return revision


def _span(meeting: Meeting, start: float, end: float) -> tuple[float, float]:
    if not (math.isfinite(start) and math.isfinite(end)):
        raise InvalidInput("start: give the line's start and end in seconds or as 0:19")
    if not 0 <= start < end <= meeting.duration + 0.01:
        raise InvalidInput(f"end: the line must lie within the meeting (0 to {meeting.duration:g} s), end after start")
    if end - start > MAX_LINE_SECONDS:
        raise InvalidInput(f"end: a line of at most {MAX_LINE_SECONDS:g} s; add a long passage as several lines")
    return round(start, 3), round(end, 3)


def _recording_at(session: Session, meeting: Meeting, start: float, end: float) -> Recording:
    """The recording the line was heard in: the mixed one holding the span, else any track holding it."""
    holding = [r for r in meeting.recordings if r.offset - 0.01 <= start and end <= r.offset + r.duration + 0.01]
    if not holding:
        raise InvalidInput("end: the line must lie within one recording of the meeting")
    return min(holding, key=lambda r: (r.track is not None, r.position))


def _voice(
    session: Session, meeting: Meeting, speaker: str | int | None, user: User | None, actor: str
) -> Speaker | None:
    if speaker is None or speaker == "":
        return None
    if speaker == NEW_VOICE:
        labels = set(session.scalars(select(Speaker.label).where(Speaker.meeting_id == meeting.id)))
        number = 0
        while f"SPEAKER_{number:02d}" in labels:
            number += 1
        voice = Speaker(meeting_id=meeting.id, label=f"SPEAKER_{number:02d}", turns=[])
        session.add(voice)
        session.flush()
        record(session, "speaker-add", user=user, actor=actor_of(user, actor), target=voice.label, meeting=meeting.slug)
        return voice
    try:
        speaker_id = int(speaker)
    except (TypeError, ValueError):
        raise InvalidInput(f"speaker: {speaker!r} is not a voice of this meeting") from None
    found = session.get(Speaker, speaker_id)
    if found is None or found.meeting_id != meeting.id:
        raise InvalidInput(f"speaker: {speaker_id} is not a voice of this meeting")
    return found
