"""Names said aloud: where a voice's name is withheld, the places its person's name is spoken in the transcript.

Withholding a name hides it beside the lines ("Public commenter 1"), but "My name is Carlos" still says it. The
privacy page offers to redact each such name with one click (a phrase redaction, as any other).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db.models import Meeting, Segment, Speaker
from archive.privacy.view import NAMELESS, phrase_pattern, public_view

SHORTEST_NAME = 3  # a name's parts shorter than this ("Al", "de") match too much ordinary speech to offer


@dataclass(frozen=True)
class SpokenName:
    phrase: str  # what would be redacted: the full name or one part of it
    person: str  # whose name it is (curators' eyes only)
    label: str  # the voice whose name is withheld
    times: int  # lines of the transcript that say it


def spoken_names(session: Session, meeting: Meeting) -> list[SpokenName]:
    """The withheld names (whole, then each part) that the meeting's transcript still says, not yet redacted."""
    withheld = session.scalars(
        select(Speaker).where(Speaker.meeting_id == meeting.id, Speaker.consent.in_(NAMELESS))
    ).all()
    people = [(s, s.person) for s in withheld if s.person is not None]
    if not people:
        return []
    # As published: a name already redacted (whole, or as part of a longer phrase) is not said any more.
    view = public_view(session, meeting)
    texts = [
        view.redact_text(text) for text in session.scalars(select(Segment.text).where(Segment.meeting_id == meeting.id))
    ]
    offers: list[SpokenName] = []
    offered: set[str] = set()
    for speaker, person in people:
        parts = person.name.split()
        candidates = [person.name] + (parts if len(parts) > 1 else [])
        for phrase in candidates:
            key = phrase.lower()
            if key in offered or len(phrase) < SHORTEST_NAME:
                continue
            pattern = phrase_pattern(phrase)
            times = sum(1 for text in texts if pattern.search(text))
            if times:
                offered.add(key)
                offers.append(SpokenName(phrase, person.name, speaker.label, times))
    return offers
