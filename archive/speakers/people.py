"""Who said what: the one place where a meeting's voices are attributed to people, corrected and withdrawn.

Every change writes the speaker's current attribution columns and appends a row to the attribution ledger
(`Attribution`), and keeps voice prints in step: a print is rebuilt from human attributions only (see
archive.speakers.voices). Segments point at their speaker row, so naming a voice names every one of its
segments. These functions flush but never commit: the caller owns the transaction, and re-indexes the
meetings it changed after the commit (`affected_meetings` says which).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from archive.db.lookups import meeting_by_slug
from archive.db.models import ATTRIBUTION_METHODS, CONSENT_LEVELS, Attribution, Meeting, Person, Segment, Speaker
from archive.errors import InvalidInput, NotFound
from archive.speakers.voices import (
    HUMAN_METHODS,
    SUGGEST_THRESHOLD,
    best_matches,
    from_bytes,
    mean_voice,
    refresh_voice_print,
    to_bytes,
)
from archive.timecodes import format_clock

WITHDRAWN = "withdrawn"
# A ledger row that says a curator turned down the machine's suggestion of this person for this voice: the
# voice is never suggested as them again.
REJECTED = "rejected"
# Ledger rows that record a change to the voice itself rather than to whom it is attributed.
MERGED, SPLIT = "merged", "split"
_LABEL = re.compile(r"^SPEAKER_(\d+)$")


# --- attributing ------------------------------------------------------------------------------------------


def attribute(
    session: Session,
    speaker: Speaker,
    person: Person | None,
    method: str,
    *,
    score: float | None = None,
    note: str | None = None,
    made_by: str,
) -> Attribution:
    """Attribute `speaker` to `person` (or withdraw its attribution, `person=None`, method "withdrawn")."""
    if person is None:
        if method != WITHDRAWN:
            raise InvalidInput(f"an attribution to nobody is a withdrawal (method {WITHDRAWN!r}), not {method!r}")
    elif method not in ATTRIBUTION_METHODS:
        raise InvalidInput(f"attribution method {method!r} is not one of: {', '.join(ATTRIBUTION_METHODS)}")
    elif method == "voice-match" and not person.voice_matching_allowed:
        raise InvalidInput(f"{person.name} (person {person.id}) has not agreed to voice matching ({person.consent})")
    elif method not in HUMAN_METHODS:
        # The database refuses it too (migration 0014): a voice match is a suggestion until a curator confirms it.
        raise InvalidInput(f"a voice match only suggests {person.name}: a curator confirms it (confirm_suggestion)")
    if person is not None and person.id is None:
        session.add(person)
        session.flush()
    previous = speaker.person
    speaker.person = person
    speaker.attribution = method if person is not None else None
    speaker.attribution_score = score if person is not None else None
    speaker.attribution_note = note
    if person is not None and speaker.suggested_person_id == person.id:
        speaker.suggested_person = None
        speaker.suggestion_score = None
    entry = Attribution(
        speaker_id=speaker.id,
        person_id=person.id if person is not None else None,
        method=method,
        score=score,
        note=note,
        made_by=made_by,
    )
    session.add(entry)
    session.flush()
    for someone in {p.id: p for p in (previous, person) if p is not None}.values():
        refresh_voice_print(session, someone)
    session.flush()
    return entry


def withdraw(session: Session, speaker: Speaker, *, note: str | None = None, made_by: str) -> Attribution:
    """The voice is nobody's any more (as far as we know)."""
    return attribute(session, speaker, None, WITHDRAWN, note=note, made_by=made_by)


def name_speaker(
    session: Session,
    slug: str,
    label: str,
    name: str,
    *,
    role: str | None = None,
    affiliation: str | None = None,
    method: str = "curator",
    note: str | None = None,
    person_id: int | None = None,
    made_by: str,
) -> Speaker:
    """Attribute a meeting's voice to the person called `name` (made if nobody has that name yet).

    A person who shares the name with others must be chosen by id. Role and affiliation, when given,
    update the person (they describe the person, not this one meeting).
    """
    if method not in HUMAN_METHODS:
        raise InvalidInput(f"a voice is named by a person: method must be one of {', '.join(HUMAN_METHODS)}")
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("the name must not be empty")
    speaker = find_speaker(session, slug, label)
    if person_id is not None:
        person = session.get(Person, person_id)
        if person is None:
            raise NotFound(f"no person with id {person_id}")
        if person.name != name:
            raise InvalidInput(
                f"person {person_id} is {person.name!r}, not {name!r} (rename people with `testimony people edit`)"
            )
    else:
        namesakes = session.scalars(select(Person).where(Person.name == name).order_by(Person.id)).all()
        if len(namesakes) > 1:
            choices = "; ".join(f"{p.id}: {describe_person(p)}" for p in namesakes)
            raise InvalidInput(f"{len(namesakes)} people are named {name!r} ({choices}): choose one by id (--person)")
        person = namesakes[0] if namesakes else Person(name=name)
    if role is not None:
        person.role = role.strip() or None
    if affiliation is not None:
        person.affiliation = affiliation.strip() or None
    session.add(person)
    attribute(session, speaker, person, method, note=note, made_by=made_by)
    return speaker


# --- correcting the diarization -------------------------------------------------------------------------


def merge_speakers(session: Session, slug: str, keep_label: str, other_label: str, *, made_by: str) -> Speaker:
    """Two labels that are one voice: `other`'s segments, turns, speech and history join `keep`."""
    keep = find_speaker(session, slug, keep_label)
    other = find_speaker(session, slug, other_label)
    if keep.id == other.id:
        raise InvalidInput(f"{keep.label} cannot be merged with itself")
    if keep.person is not None and other.person is not None and keep.person.id != other.person.id:
        raise InvalidInput(
            f"{keep.label} is attributed to {keep.person.name} (person {keep.person.id}) and {other.label} to "
            f"{other.person.name} (person {other.person.id}): withdraw or correct one attribution first"
        )
    keep.embedding, keep.embedding_model = _combined_voice(keep, other)
    keep.speech_seconds = (keep.speech_seconds or 0.0) + (other.speech_seconds or 0.0)
    keep.turns = _sorted_turns([*(keep.turns or []), *(other.turns or [])])
    if keep.suggested_person_id is None and keep.person is None:
        keep.suggested_person_id, keep.suggestion_score = other.suggested_person_id, other.suggestion_score
    inherited = other.person if keep.person is None else None
    inherited_how = (other.attribution, other.attribution_score)
    session.execute(update(Segment).where(Segment.speaker_id == other.id).values(speaker_id=keep.id))
    # The other label's history stays in the ledger, under the voice it now belongs to.
    session.execute(update(Attribution).where(Attribution.speaker_id == other.id).values(speaker_id=keep.id))
    other_label = other.label
    session.delete(other)
    session.flush()
    session.add(
        Attribution(
            speaker_id=keep.id,
            person_id=keep.person_id,
            method=MERGED,
            note=f"{other_label} merged into {keep.label}",
            made_by=made_by,
        )
    )
    if inherited is not None:
        method, score = inherited_how
        attribute(
            session,
            keep,
            inherited,
            method or "curator",
            score=score,
            note=f"as {other_label} was, before the merge",
            made_by=made_by,
        )
    elif keep.person is not None:
        refresh_voice_print(session, keep.person)  # the voice now has more speech behind it
    session.flush()
    return keep


@dataclass(frozen=True)
class SplitResult:
    source: str  # the label segments left
    target: str  # the label they joined
    created: bool  # whether the target label is new
    moved: int  # segments moved


def split_speaker(
    session: Session,
    slug: str,
    label: str,
    start: float,
    end: float,
    *,
    into_label: str | None = None,
    made_by: str,
) -> SplitResult:
    """The segments of `label` whose middle lies in [start, end] are another voice: move them (and the
    diarized turns in that span) to `into_label`, or to a new label without an embedding."""
    if end <= start:
        raise InvalidInput(f"the span ends ({format_clock(end)}) before it starts ({format_clock(start)})")
    source = find_speaker(session, slug, label)
    segments = session.scalars(
        select(Segment).where(Segment.speaker_id == source.id).order_by(Segment.start, Segment.id)
    ).all()
    moving = [s for s in segments if start <= (s.start + s.end) / 2 <= end]
    if not moving:
        raise InvalidInput(
            f"{source.label} of meeting {slug!r} has no segment between {format_clock(start)} and {format_clock(end)}"
        )
    created = into_label is None
    if into_label is None:
        target = Speaker(meeting_id=source.meeting_id, label=next_label(session, source.meeting_id), turns=[])
        session.add(target)
        session.flush()
    else:
        target = find_speaker(session, slug, into_label)
        if target.id == source.id:
            raise InvalidInput(f"{source.label} cannot be split into itself")
    for segment in moving:
        segment.speaker_id = target.id
    staying, leaving = _cut_turns(source.turns or [], start, end)
    source.turns = staying
    target.turns = _sorted_turns([*(target.turns or []), *leaving])
    span = f"{format_clock(start)}–{format_clock(end)}"
    session.add_all(
        [
            Attribution(
                speaker_id=source.id,
                person_id=source.person_id,
                method=SPLIT,
                note=f"{len(moving)} segment(s) in {span} moved to {target.label}",
                made_by=made_by,
            ),
            Attribution(
                speaker_id=target.id,
                person_id=target.person_id,
                method=SPLIT,
                note=f"{len(moving)} segment(s) in {span} moved here from {source.label}",
                made_by=made_by,
            ),
        ]
    )
    session.flush()
    return SplitResult(source.label, target.label, created, len(moving))


# --- voice matching -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchOutcome:
    label: str
    person_id: int
    person: str  # the public name: what may be printed
    score: float
    action: str  # always "suggested": a curator confirms or rejects it


def apply_voice_matches(session: Session, meeting: Meeting) -> list[MatchOutcome]:
    """Match the meeting's voices that nobody has attributed against the known voice prints.

    A score of at least SUGGEST_THRESHOLD suggests the person to a curator (`suggested_person_id`, with the
    score); it never attributes the voice, so nothing public changes until a curator confirms it. Someone a
    person already recognised in this meeting is not suggested for a second voice of it, nor someone a curator
    rejected for this voice.
    """
    speakers = session.scalars(select(Speaker).where(Speaker.meeting_id == meeting.id).order_by(Speaker.label)).all()
    recognised = {s.person_id for s in speakers if s.attribution in HUMAN_METHODS and s.person_id is not None}
    open_voices = [s for s in speakers if s.embedding is not None and s.person_id is None]
    rejected = set(
        session.execute(
            select(Attribution.speaker_id, Attribution.person_id).where(
                Attribution.method == REJECTED, Attribution.speaker_id.in_([s.id for s in open_voices])
            )
        ).all()
    )
    matches = best_matches(session, open_voices)
    outcomes: list[MatchOutcome] = []
    for speaker in open_voices:
        match = matches.get(speaker.id)
        if (
            match is None
            or match.person_id in recognised
            or match.score < SUGGEST_THRESHOLD
            or (speaker.id, match.person_id) in rejected
        ):
            speaker.suggested_person, speaker.suggestion_score = None, None
            continue
        person = session.get_one(Person, match.person_id)
        score = round(match.score, 4)
        speaker.suggested_person, speaker.suggestion_score = person, score
        outcomes.append(MatchOutcome(speaker.label, person.id, person.public_name, score, "suggested"))
    session.flush()
    return outcomes


def confirm_suggestion(session: Session, speaker: Speaker, *, made_by: str) -> Attribution:
    """A curator heard the voice and agrees with the machine's suggestion: the voice is now the person's
    (method "curator", the similarity kept in the note), and public from the next commit."""
    person = speaker.suggested_person
    if person is None:
        raise InvalidInput(f"{speaker.label} has no suggestion to confirm")
    score = speaker.suggestion_score
    note = "confirmed the voice match" + (f" (similarity {score:.2f})" if score is not None else "")
    return attribute(session, speaker, person, "curator", note=note, made_by=made_by)


def reject_suggestion(session: Session, speaker: Speaker, *, made_by: str) -> Attribution:
    """A curator says the voice is not the suggested person: the suggestion goes, and is never made again."""
    person = speaker.suggested_person
    if person is None:
        raise InvalidInput(f"{speaker.label} has no suggestion to reject")
    entry = Attribution(
        speaker_id=speaker.id,
        person_id=person.id,
        method=REJECTED,
        score=speaker.suggestion_score,
        note="the suggested voice match was rejected",
        made_by=made_by,
    )
    session.add(entry)
    speaker.suggested_person, speaker.suggestion_score = None, None
    session.flush()
    return entry


# --- people ---------------------------------------------------------------------------------------------


def set_consent(session: Session, person: Person, consent: str, *, made_by: str) -> None:
    """Record what the person agreed to. Without "public" their voice print goes and suggestions of them are
    dropped (a voice match is only ever a suggestion); back at "public" the print is rebuilt."""
    if consent not in CONSENT_LEVELS:
        raise InvalidInput(f"consent {consent!r} is not one of: {', '.join(CONSENT_LEVELS)}")
    person.consent = consent
    session.flush()
    if not person.voice_matching_allowed:
        session.execute(
            update(Speaker)
            .where(Speaker.suggested_person_id == person.id)
            .values(suggested_person_id=None, suggestion_score=None)
        )
    refresh_voice_print(session, person)
    session.flush()


def update_person(
    session: Session,
    person_id: int,
    *,
    name: str | None = None,
    role: str | None = None,
    affiliation: str | None = None,
    consent: str | None = None,
    made_by: str,
) -> Person:
    """Change what is known about a person; an empty role or affiliation clears it."""
    person = get_person(session, person_id)
    if name is not None:
        name = " ".join(name.split())
        if not name:
            raise InvalidInput("the name must not be empty")
        person.name = name
    if role is not None:
        person.role = role.strip() or None
    if affiliation is not None:
        person.affiliation = affiliation.strip() or None
    session.flush()
    if consent is not None and consent != person.consent:
        set_consent(session, person, consent, made_by=made_by)
    return person


def delete_person(session: Session, person: Person, *, made_by: str) -> None:
    """Forget a person (on request): their voices become unattributed, their voice print is deleted.

    The ledger keeps that attributions were withdrawn, not who they named.
    """
    for speaker in session.scalars(select(Speaker).where(Speaker.person_id == person.id)).all():
        withdraw(session, speaker, note="the person was deleted", made_by=made_by)
    session.execute(
        update(Speaker)
        .where(Speaker.suggested_person_id == person.id)
        .values(suggested_person_id=None, suggestion_score=None)
    )
    session.execute(update(Attribution).where(Attribution.person_id == person.id).values(person_id=None))
    session.delete(person)  # the voice print goes with it (ON DELETE CASCADE)
    session.flush()


# --- finding --------------------------------------------------------------------------------------------


def talk_times(session: Session, meeting_id: int) -> dict[int | None, float]:
    """Seconds of speech per speaker id in a meeting (None: lines with no voice)."""
    rows = session.execute(
        select(Segment.speaker_id, func.sum(Segment.end - Segment.start))
        .where(Segment.meeting_id == meeting_id)
        .group_by(Segment.speaker_id)
    ).all()
    return {speaker_id: float(seconds or 0.0) for speaker_id, seconds in rows}


def find_speaker(session: Session, slug: str, label: str) -> Speaker:
    """The meeting's voice by its label; `speaker_03` and `3` mean SPEAKER_03."""
    meeting = meeting_by_slug(session, slug)
    speakers = session.scalars(select(Speaker).where(Speaker.meeting_id == meeting.id).order_by(Speaker.label)).all()
    wanted = label.strip()
    candidates = [wanted, wanted.upper()]
    if wanted.isdigit():
        candidates.append(f"SPEAKER_{int(wanted):02d}")
    for candidate in candidates:
        for speaker in speakers:
            if speaker.label == candidate:
                return speaker
    known = ", ".join(s.label for s in speakers) or "none: it has not been diarized"
    raise NotFound(f"meeting {slug!r} has no speaker {label!r}; its speakers: {known}")


def get_person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person with id {person_id}")
    return person


def next_label(session: Session, meeting_id: int) -> str:
    """The next free SPEAKER_NN of a meeting."""
    labels = session.scalars(select(Speaker.label).where(Speaker.meeting_id == meeting_id)).all()
    numbers = [int(m.group(1)) for m in map(_LABEL.match, labels) if m]
    number = max(numbers, default=-1) + 1
    while f"SPEAKER_{number:02d}" in labels:  # pragma: no cover - only with hand-made labels
        number += 1
    return f"SPEAKER_{number:02d}"


def affected_meetings(session: Session, person_ids: Iterable[int]) -> list[str]:
    """Slugs of the meetings in which these people speak: what to re-index after changing them."""
    ids = list(person_ids)
    if not ids:
        return []
    return list(
        session.scalars(
            select(Meeting.slug).join(Speaker).where(Speaker.person_id.in_(ids)).distinct().order_by(Meeting.slug)
        )
    )


def describe_person(person: Person) -> str:
    """`Name (role, affiliation)` for curators' eyes: the real name, with the consent when not public."""
    details = ", ".join(x for x in (person.role, person.affiliation) if x)
    text = f"{person.name} ({details})" if details else person.name
    return text if person.consent == "public" else f"{text} [{person.consent}]"


# --- internals ------------------------------------------------------------------------------------------


def _combined_voice(keep: Speaker, other: Speaker) -> tuple[bytes | None, str | None]:
    """The speech-time-weighted mean of two embeddings of one model; otherwise the one with more speech."""
    if other.embedding is None:
        return keep.embedding, keep.embedding_model
    if keep.embedding is None:
        return other.embedding, other.embedding_model
    if keep.embedding_model != other.embedding_model:
        larger = keep if (keep.speech_seconds or 0) >= (other.speech_seconds or 0) else other
        return larger.embedding, larger.embedding_model
    weights = (keep.speech_seconds or 0.0, other.speech_seconds or 0.0)
    if sum(weights) <= 0:
        weights = (1.0, 1.0)
    voices = [(from_bytes(keep.embedding), weights[0]), (from_bytes(other.embedding), weights[1])]
    return to_bytes(mean_voice(voices)), keep.embedding_model


def _sorted_turns(turns: list[list[float]]) -> list[list[float]]:
    return [[float(a), float(b)] for a, b in sorted(turns)]


def _cut_turns(turns: list[list[float]], start: float, end: float) -> tuple[list[list[float]], list[list[float]]]:
    """Split turns at [start, end]: (the parts outside, the parts inside)."""
    outside: list[list[float]] = []
    inside: list[list[float]] = []
    for a, b in turns:
        if b <= start or a >= end:
            outside.append([a, b])
            continue
        if a < start:
            outside.append([a, start])
        inside.append([max(a, start), min(b, end)])
        if b > end:
            outside.append([end, b])
    return _sorted_turns(outside), _sorted_turns(inside)
