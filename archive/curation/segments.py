"""Corrections of segments: their words, where one ends and the next begins, who speaks, what kind, which tags.

Each function changes the rows in the caller's transaction and writes one Revision (archive.curation.revisions)
and one audit event; the caller commits, then re-indexes the meeting. The machine transcript is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.curation.revisions import add_revision, snapshot
from archive.curation.words import clean_text, realign
from archive.db.models import SEGMENT_KINDS, Revision, Segment, Speaker, User
from archive.errors import InvalidInput, NotFound

TAG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_TAGS = 10
MAX_TAG_LENGTH = 40


def find_segment(session: Session, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound(f"no segment {segment_id}")
    return segment


def _revise(
    session: Session,
    segments: Sequence[Segment],
    before: list[dict],
    action: str,
    audit: str,
    user: User | None,
    actor: str,
) -> Revision:
    session.flush()
    return add_revision(
        session,
        segments[0].meeting,
        action,
        audit,
        {"segments": before},
        {"segments": [snapshot(segment) for segment in segments]},
        user=user,
        actor=actor,
        segment_id=segments[0].id,
    )


def edit_text(session: Session, segment_id: int, text: str, *, user: User | None = None, actor: str = "") -> Revision:
    """Correct a segment's words; the machine's timings are kept for the words it heard (see words.realign)."""
    segment = find_segment(session, segment_id)
    text = clean_text(text)
    if text == segment.text:
        raise InvalidInput("text: nothing changed")
    before = [snapshot(segment)]
    segment.words = realign(segment.words or [], text, segment.start, segment.end)
    segment.text = text
    return _revise(session, [segment], before, "text", "segment-edit", user, actor)


def split_segment(
    session: Session, segment_id: int, at_word: int, *, user: User | None = None, actor: str = ""
) -> tuple[Segment, Segment]:
    """Split before word `at_word` (0-based); the first half keeps the id, both keep speaker, kind and tags."""
    segment = find_segment(session, segment_id)
    words = segment.words or []
    if len(words) < 2:
        raise InvalidInput("at_word: this line has fewer than two timed words, so there is nowhere to split it")
    if not 1 <= at_word < len(words):
        raise InvalidInput(f"at_word: split before a word from 1 to {len(words) - 1} (the line has {len(words)})")
    before = [snapshot(segment)]
    first, second = words[:at_word], words[at_word:]
    rest = Segment(
        meeting_id=segment.meeting_id,
        recording_id=segment.recording_id,
        run_id=segment.run_id,
        speaker_id=segment.speaker_id,
        start=second[0]["start"],
        end=segment.end,
        text=" ".join(word["word"] for word in second),
        words=[dict(word) for word in second],
        language=segment.language,
        kind=segment.kind,
        kind_suggested=segment.kind_suggested,
        tags=list(segment.tags or []),
        avg_logprob=segment.avg_logprob,
        no_speech_prob=segment.no_speech_prob,
    )
    session.add(rest)
    segment.words = [dict(word) for word in first]
    segment.text = " ".join(word["word"] for word in first)
    segment.end = first[-1]["end"]
    _revise(session, [segment, rest], before, "split", "segment-split", user, actor)
    return segment, rest


def next_segment(session: Session, segment: Segment) -> Segment | None:
    """The meeting's line after this one, in the page's order."""
    return session.scalars(
        select(Segment)
        .where(Segment.meeting_id == segment.meeting_id, Segment.id != segment.id)
        .where((Segment.start > segment.start) | ((Segment.start == segment.start) & (Segment.id > segment.id)))
        .order_by(Segment.start, Segment.id)
        .limit(1)
    ).first()


def merge_segments(
    session: Session,
    first_id: int,
    second_id: int,
    *,
    speaker_id: int | None = None,
    user: User | None = None,
    actor: str = "",
) -> Segment:
    """Join a line with the one right after it (same meeting and recording); the first keeps its id.

    Lines of two different voices are joined only when the caller says whose the joined line is (`speaker_id`).
    """
    first, second = find_segment(session, first_id), find_segment(session, second_id)
    if first.meeting_id != second.meeting_id:
        raise InvalidInput(f"second: segment {second_id} is in another meeting")
    if first.recording_id != second.recording_id:
        raise InvalidInput(f"second: segment {second_id} is in another recording of the meeting")
    following = next_segment(session, first)
    if following is None or following.id != second.id:
        raise InvalidInput(f"second: segment {second_id} is not the line right after segment {first_id}")
    if speaker_id is not None:
        _check_speaker(session, first, speaker_id)
    elif first.speaker_id != second.speaker_id:
        raise InvalidInput(
            f"speaker: segments {first_id} and {second_id} are different voices; say whose the joined line is"
        )
    before = [snapshot(first), snapshot(second)]
    first.words = [dict(word) for word in [*(first.words or []), *(second.words or [])]]
    first.text = f"{first.text} {second.text}"
    first.end = max(first.end, second.end)
    first.kind = first.kind or second.kind
    first.tags = list(dict.fromkeys([*(first.tags or []), *(second.tags or [])]))[:MAX_TAGS]
    if speaker_id is not None:
        first.speaker_id = speaker_id
    session.delete(second)
    _revise(session, [first], before, "merge", "segment-merge", user, actor)
    return first


def _check_speaker(session: Session, segment: Segment, speaker_id: int) -> Speaker:
    speaker = session.get(Speaker, speaker_id)
    if speaker is None or speaker.meeting_id != segment.meeting_id:
        raise InvalidInput(f"speaker: {speaker_id} is not a voice of this meeting")
    return speaker


def set_speaker(
    session: Session, segment_id: int, speaker_id: int, *, user: User | None = None, actor: str = ""
) -> Revision:
    """Attribute the line to another voice of the same meeting."""
    segment = find_segment(session, segment_id)
    _check_speaker(session, segment, speaker_id)
    if segment.speaker_id == speaker_id:
        raise InvalidInput("speaker: nothing changed")
    before = [snapshot(segment)]
    segment.speaker_id = speaker_id
    return _revise(session, [segment], before, "speaker", "segment-speaker", user, actor)


def set_kind(
    session: Session, segment_id: int, kind: str | None, *, user: User | None = None, actor: str = ""
) -> Revision:
    """Say what kind of speech the line is (testimony, deliberation, remark, procedural), or clear it (None)."""
    segment = find_segment(session, segment_id)
    kind = (kind or "").strip() or None
    if kind is not None and kind not in SEGMENT_KINDS:
        raise InvalidInput(f"kind: {kind!r} is not one of: {', '.join(SEGMENT_KINDS)}")
    if segment.kind == kind and not segment.kind_suggested:  # the same as suggested: the curator confirms it
        raise InvalidInput("kind: nothing changed")
    before = [snapshot(segment)]
    segment.kind, segment.kind_suggested = kind, False  # a curator's choice: never suggested over again
    return _revise(session, [segment], before, "kind", "segment-kind", user, actor)


def parse_tags(tags: str | Sequence[str]) -> list[str]:
    """Tags from a list or from "hot-mic, public-comment": lower-case kebab-case, each named when refused."""
    items = tags.replace(",", " ").split() if isinstance(tags, str) else [t.strip() for t in tags]
    cleaned = list(dict.fromkeys(item.lower() for item in items if item))
    for tag in cleaned:
        if len(tag) > MAX_TAG_LENGTH:
            raise InvalidInput(f"tags: {tag[:20]!r}… is longer than {MAX_TAG_LENGTH} characters")
        if not TAG.match(tag):
            raise InvalidInput(
                f"tags: {tag!r} is not lower-case-kebab-case (letters, digits and hyphens, e.g. hot-mic)"
            )
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(f"tags: {len(cleaned)} tags, at most {MAX_TAGS}")
    return cleaned


def set_tags(
    session: Session, segment_id: int, tags: str | Sequence[str], *, user: User | None = None, actor: str = ""
) -> Revision:
    """Replace the line's tags (e.g. hot-mic, public-comment)."""
    segment = find_segment(session, segment_id)
    cleaned = parse_tags(tags)
    if list(segment.tags or []) == cleaned:
        raise InvalidInput("tags: nothing changed")
    before = [snapshot(segment)]
    segment.tags = cleaned
    return _revise(session, [segment], before, "tags", "segment-tags", user, actor)
