"""Suggested interpretation links: a turn in another language, by another voice, right after a source turn.

At a hearing with an interpreter, a testifier speaks (Spanish) and the interpreter repeats it (English) as soon as
she stops. The machine suggests that pairing; a curator confirms, changes or removes it (archive.curation
.interpretations). It is never shown to the public as fact until confirmed, and nothing is ever translated by a
machine: the interpretation is what the interpreter said.

A turn is consecutive segments of one voice in one language. Turn B interprets turn A when
- they are in different languages, by different voices (both known: without diarization, no suggestion);
- B starts within MAX_PAUSE seconds of A's end and lasts between 1/MAX_RATIO and MAX_RATIO times as long;
- B is in the meeting's most spoken language (interpretation is for the record's listeners), or B's voice is a
  person whose role is "interpreter" (then any direction).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from archive.db.models import Interpretation, Person, Segment, Speaker

MAX_PAUSE = 5.0  # seconds between the source turn's end and the interpretation's start
MAX_RATIO = 2.5  # an interpretation is about as long as what it interprets
INTERPRETER = "interpreter"  # the role that makes a voice's turns interpretations in either direction
SUGGESTED = "suggested"


@dataclass
class Turn:
    speaker_id: int
    language: str
    segments: list[Segment]

    @property
    def start(self) -> float:
        return self.segments[0].start

    @property
    def end(self) -> float:
        return self.segments[-1].end


def turns(segments: list[Segment]) -> list[Turn]:
    found: list[Turn] = []
    for segment in segments:
        if segment.speaker_id is None or not segment.language:
            found.append(Turn(-1, "", [segment]))  # breaks any pairing across it
            continue
        last = found[-1] if found else None
        if last is not None and (last.speaker_id, last.language) == (segment.speaker_id, segment.language):
            last.segments.append(segment)
        else:
            found.append(Turn(segment.speaker_id, segment.language, [segment]))
    return found


def suggest_interpretations(session: Session, meeting_id: int) -> int:
    """Replace the meeting's suggested links (confirmed ones stay, and their segments are left alone); returns
    how many interpretation turns were suggested."""
    session.execute(
        delete(Interpretation).where(Interpretation.meeting_id == meeting_id, Interpretation.status == SUGGESTED)
    )
    segments = list(
        session.scalars(select(Segment).where(Segment.meeting_id == meeting_id).order_by(Segment.start, Segment.id))
    )
    confirmed = set(session.scalars(select(Interpretation.segment_id).where(Interpretation.meeting_id == meeting_id)))
    seconds: dict[str, float] = {}
    for segment in segments:
        if segment.language:
            seconds[segment.language] = seconds.get(segment.language, 0.0) + segment.end - segment.start
    if len(seconds) < 2:
        return 0
    main = max(seconds, key=lambda language: seconds[language])
    interpreters = set(
        session.scalars(
            select(Speaker.id)
            .join(Person, Person.id == Speaker.person_id)
            .where(Speaker.meeting_id == meeting_id, func.lower(Person.role) == INTERPRETER)
        )
    )
    found = 0
    listed = turns(segments)
    for source, target in zip(listed, listed[1:], strict=False):
        if -1 in (source.speaker_id, target.speaker_id) or source.speaker_id == target.speaker_id:
            continue
        if source.language == target.language or target.start - source.end > MAX_PAUSE:
            continue
        length, source_length = target.end - target.start, max(source.end - source.start, 1e-3)
        if not 1 / MAX_RATIO <= length / source_length <= MAX_RATIO:
            continue
        if target.language != main and target.speaker_id not in interpreters:
            continue
        if any(s.id in confirmed for s in target.segments):
            continue
        session.add_all(
            Interpretation(meeting_id=meeting_id, segment_id=t.id, source_id=s.id, status=SUGGESTED, made_by="machine")
            for t in target.segments
            for s in source.segments
        )
        found += 1
    session.flush()
    return found
