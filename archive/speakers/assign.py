"""Give every segment one speaker: each word goes to the voice whose turns cover it most, and a segment
whose words change speaker is split at the change.

Whisper cuts segments at pauses and sentence ends, not at speaker changes, so "…thank you. Next speaker,
please." can hold two voices. Splitting keeps the rule that a segment has exactly one speaker, which search
results, quotes and excerpts depend on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db.models import Recording, Segment, Speaker

NEAREST_TURN_SECONDS = 1.0  # a word outside every turn goes to a turn this close, if there is one
BLIP_SECONDS = 0.3  # one short word flanked by another voice on both sides is boundary jitter: it joins them

SpeakerTurn = tuple[float, float, int]  # start, end, speaker id


@dataclass(frozen=True)
class Piece:
    """A part of a segment spoken by one voice (`speaker` None when no turn is near)."""

    speaker: int | None
    words: list[dict[str, Any]]


def speaker_for(start: float, end: float, turns: Sequence[SpeakerTurn]) -> int | None:
    """The speaker whose turns overlap [start, end] most; failing that, the nearest turn within reach."""
    overlap: dict[int, float] = {}
    for turn_start, turn_end, speaker in turns:
        shared = min(end, turn_end) - max(start, turn_start)
        if shared > 0:
            overlap[speaker] = overlap.get(speaker, 0.0) + shared
    if overlap:
        return max(overlap, key=lambda s: (overlap[s], -s))
    middle = (start + end) / 2
    distance, nearest = min(
        ((min(abs(middle - turn_start), abs(middle - turn_end)), speaker) for turn_start, turn_end, speaker in turns),
        default=(None, None),
    )
    return nearest if distance is not None and distance <= NEAREST_TURN_SECONDS else None


def split_words(words: Sequence[dict[str, Any]], turns: Sequence[SpeakerTurn]) -> list[Piece]:
    """Consecutive words of one speaker, in order (at least one piece, even without words)."""
    if not words:
        return [Piece(None, [])]
    labels = [speaker_for(w["start"], w["end"], turns) for w in words]
    # A word no turn claims belongs with its neighbours.
    for i in range(1, len(labels)):
        if labels[i] is None:
            labels[i] = labels[i - 1]
    for i in range(len(labels) - 2, -1, -1):
        if labels[i] is None:
            labels[i] = labels[i + 1]
    for i in range(1, len(labels) - 1):
        short = words[i]["end"] - words[i]["start"] < BLIP_SECONDS
        if short and labels[i - 1] == labels[i + 1] != labels[i]:
            labels[i] = labels[i - 1]
    pieces: list[Piece] = []
    for label, word in zip(labels, words, strict=True):
        if pieces and pieces[-1].speaker == label:
            pieces[-1].words.append(word)
        else:
            pieces.append(Piece(label, [word]))
    return pieces


def assign_segments(session: Session, meeting_id: int) -> int:
    """Attribute the meeting's segments from its speakers' turns, splitting where the voice changes.

    The first piece keeps the segment's row (and id); the others become new rows with the same run, kind,
    tags and confidence figures. Returns how many segments were split. Does nothing without diarization.
    """
    speakers = session.scalars(select(Speaker).where(Speaker.meeting_id == meeting_id)).all()
    turns = sorted((start, end, s.id) for s in speakers for start, end in s.turns)
    if not turns:
        return 0
    # In a meeting of simultaneous tracks, a voice found on one track speaks the words heard on that track only.
    tracks = dict(
        session.execute(select(Recording.id, Recording.track).where(Recording.meeting_id == meeting_id)).all()
    )
    on_track: dict[str | None, list[SpeakerTurn]] = {}
    for start, end, speaker_id in turns:
        track = next(s.track for s in speakers if s.id == speaker_id)
        on_track.setdefault(track, []).append((start, end, speaker_id))
    segments = session.scalars(select(Segment).where(Segment.meeting_id == meeting_id).order_by(Segment.start)).all()
    split = 0
    for segment in segments:
        if segment.source is not None:  # a curator's line keeps the voice the curator gave it
            continue
        track = tracks.get(segment.recording_id)
        turns = on_track.get(track, []) if track is not None and track in on_track else on_track.get(None, [])
        if not turns:
            segment.speaker_id = None
            continue
        if not segment.words:
            segment.speaker_id = speaker_for(segment.start, segment.end, turns)
            continue
        first, *rest = split_words(segment.words, turns)
        if rest:
            split += 1
            for piece in rest:
                session.add(_copy(segment, piece))
            _set_words(segment, first)
        segment.speaker_id = first.speaker
    session.flush()
    return split


def _set_words(segment: Segment, piece: Piece) -> None:
    segment.words = list(piece.words)
    segment.text = " ".join(w["word"] for w in piece.words)
    segment.start = piece.words[0]["start"]
    segment.end = piece.words[-1]["end"]


def _copy(segment: Segment, piece: Piece) -> Segment:
    copy = Segment(
        meeting_id=segment.meeting_id,
        recording_id=segment.recording_id,
        run_id=segment.run_id,
        speaker_id=piece.speaker,
        language=segment.language,
        kind=segment.kind,
        kind_suggested=segment.kind_suggested,
        tags=list(segment.tags),
        avg_logprob=segment.avg_logprob,
        no_speech_prob=segment.no_speech_prob,
    )
    _set_words(copy, piece)
    return copy
