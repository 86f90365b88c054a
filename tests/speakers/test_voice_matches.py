"""apply_voice_matches: a new meeting's voices against the voice prints people's attributions built."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from archive.db.models import Attribution, Meeting, VoicePrint
from archive.errors import InvalidInput
from archive.speakers.people import (
    REJECTED,
    apply_voice_matches,
    attribute,
    confirm_suggestion,
    find_speaker,
    name_speaker,
    reject_suggestion,
)
from archive.speakers.voices import SUGGEST_THRESHOLD, from_bytes
from tests.factories.meetings import Line, add_meeting
from tests.factories.speakers import unit

KNOWN = "2024-02-07-council"  # Rosa named by a curator: her voice is (1, 0, 0, 0)
NEW = "2024-03-06-council"


@pytest.fixture
def rosa(sessions, give_voice) -> int:  # type: ignore[no-untyped-def]
    add_meeting(sessions, KNOWN, [Line("I am Rosa.", 0.0, 30.0, speaker="a", label_only=True)])
    give_voice(KNOWN, "SPEAKER_00", unit(1.0), seconds=30.0)
    with sessions() as session, session.begin():
        return name_speaker(session, KNOWN, "SPEAKER_00", "Rosa Diaz", method="self-identified", made_by="t").person_id


def new_meeting(sessions, give_voice, *similarities: float) -> None:  # type: ignore[no-untyped-def]
    """A meeting whose voice i has cosine similarities[i] with Rosa's (each in its own direction)."""
    lines = [
        Line(f"Voice {i}.", 10.0 * i, 10.0 * i + 5, speaker=str(i), label_only=True) for i in range(len(similarities))
    ]
    add_meeting(sessions, NEW, lines)
    for i, similarity in enumerate(similarities):
        give_voice(NEW, f"SPEAKER_{i:02d}", unit(similarity, axis=1 + i % 3), seconds=20.0)


def match(sessions):  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        return apply_voice_matches(session, session.scalar(select(Meeting).where(Meeting.slug == NEW)))


def test_the_threshold_is_a_similarity() -> None:
    assert 0 < SUGGEST_THRESHOLD < 1


def test_even_a_close_voice_is_only_suggested_never_attributed(sessions, give_voice, rosa: int) -> None:  # type: ignore[no-untyped-def]
    new_meeting(sessions, give_voice, 0.81)
    assert [(o.label, o.person_id, o.person, o.score, o.action) for o in match(sessions)] == [
        ("SPEAKER_00", rosa, "Rosa Diaz", pytest.approx(0.81, abs=1e-4), "suggested")
    ]
    with sessions() as session, session.begin():
        speaker = find_speaker(session, NEW, "SPEAKER_00")
        assert (speaker.person_id, speaker.attribution) == (None, None)
        assert (speaker.suggested_person_id, speaker.suggestion_score) == (rosa, pytest.approx(0.81, abs=1e-4))
        # Only the naming of her own voice is in the ledger: a suggestion attributes nothing.
        assert session.scalars(select(Attribution.method)).all() == ["self-identified"]
        with pytest.raises(InvalidInput, match="a curator confirms it"):
            attribute(session, speaker, speaker.suggested_person, "voice-match", score=0.81, made_by="ingest")


def test_a_curator_confirms_or_rejects_a_suggestion(sessions, give_voice, rosa: int) -> None:  # type: ignore[no-untyped-def]
    new_meeting(sessions, give_voice, 0.81, 0.2)
    match(sessions)
    with sessions() as session, session.begin():
        speaker = find_speaker(session, NEW, "SPEAKER_00")
        entry = confirm_suggestion(session, speaker, made_by="curator@example.org")
        assert (entry.method, entry.person_id, entry.made_by) == ("curator", rosa, "curator@example.org")
        assert entry.note == "confirmed the voice match (similarity 0.81)"
        assert (speaker.person_id, speaker.attribution, speaker.suggested_person_id) == (rosa, "curator", None)
        with pytest.raises(InvalidInput, match="SPEAKER_01 has no suggestion to confirm"):
            confirm_suggestion(session, find_speaker(session, NEW, "SPEAKER_01"), made_by="t")
        # A confirmed voice feeds her voice print: a person heard it.
        assert session.scalars(select(VoicePrint.meetings)).one() == 2


def test_a_rejected_suggestion_is_never_made_again(sessions, give_voice, rosa: int) -> None:  # type: ignore[no-untyped-def]
    new_meeting(sessions, give_voice, 0.81)
    match(sessions)
    with sessions() as session, session.begin():
        speaker = find_speaker(session, NEW, "SPEAKER_00")
        entry = reject_suggestion(session, speaker, made_by="curator@example.org")
        assert (entry.method, entry.person_id, entry.score) == (REJECTED, rosa, pytest.approx(0.81, abs=1e-4))
        assert (speaker.person_id, speaker.suggested_person_id) == (None, None)
        with pytest.raises(InvalidInput, match="no suggestion to reject"):
            reject_suggestion(session, speaker, made_by="t")
    assert match(sessions) == []
    with sessions() as session:
        assert find_speaker(session, NEW, "SPEAKER_00").suggested_person_id is None


def test_between_the_thresholds_is_only_a_suggestion(sessions, give_voice, rosa: int) -> None:  # type: ignore[no-untyped-def]
    new_meeting(sessions, give_voice, 0.6, 0.3)
    assert [(o.label, o.action) for o in match(sessions)] == [("SPEAKER_00", "suggested")]
    with sessions() as session:
        suggested = find_speaker(session, NEW, "SPEAKER_00")
        assert (suggested.person_id, suggested.attribution) == (None, None)
        assert (suggested.suggested_person_id, round(suggested.suggestion_score, 4)) == (rosa, 0.6)
        far = find_speaker(session, NEW, "SPEAKER_01")
        assert (far.person_id, far.suggested_person_id) == (None, None)
        assert session.scalar(select(func.count()).select_from(Attribution)) == 1  # Rosa's own naming only
    # A curator confirming the suggestion clears it.
    with sessions() as session, session.begin():
        speaker = name_speaker(session, NEW, "SPEAKER_00", "Rosa Diaz", made_by="t")
        assert (speaker.suggested_person_id, speaker.suggestion_score) == (None, None)


def test_two_voices_are_never_matched_to_one_person(sessions, give_voice, rosa: int) -> None:  # type: ignore[no-untyped-def]
    new_meeting(sessions, give_voice, 0.85, 0.95)
    assert [(o.label, o.action) for o in match(sessions)] == [("SPEAKER_01", "suggested")]
    with sessions() as session:
        assert find_speaker(session, NEW, "SPEAKER_00").suggested_person_id is None
        assert find_speaker(session, NEW, "SPEAKER_01").suggested_person_id == rosa


def test_a_voice_match_does_not_feed_the_voice_print(sessions, give_voice, rosa: int) -> None:  # type: ignore[no-untyped-def]
    new_meeting(sessions, give_voice, 0.8)
    with sessions() as session:
        before = session.scalars(select(VoicePrint)).one()
        before = (before.embedding, before.speech_seconds, before.meetings)
    assert [o.action for o in match(sessions)] == ["suggested"]
    with sessions() as session:
        after = session.scalars(select(VoicePrint)).one()
        assert (after.embedding, after.speech_seconds, after.meetings) == before
        assert np.allclose(from_bytes(after.embedding), unit(1.0))


def test_people_named_voices_are_left_alone_and_matching_again_changes_nothing(sessions, give_voice, rosa: int) -> None:  # type: ignore[no-untyped-def]
    new_meeting(sessions, give_voice, 0.99, 0.9)
    with sessions() as session, session.begin():
        name_speaker(session, NEW, "SPEAKER_00", "Ann Park", made_by="t")  # a curator says otherwise
    # SPEAKER_00 is a person's call; and Rosa was not recognised here by anyone, so SPEAKER_01 may be her.
    assert [(o.label, o.action) for o in match(sessions)] == [("SPEAKER_01", "suggested")]
    with sessions() as session:
        assert find_speaker(session, NEW, "SPEAKER_00").person.name == "Ann Park"
        count = session.scalar(select(func.count()).select_from(Attribution))
    assert [(o.label, o.action) for o in match(sessions)] == [("SPEAKER_01", "suggested")]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Attribution)) == count  # no new ledger rows


def test_someone_people_recognised_in_the_meeting_is_not_matched_to_another_voice(
    sessions, give_voice, rosa: int
) -> None:  # type: ignore[no-untyped-def]
    new_meeting(sessions, give_voice, 0.2, 0.9)
    with sessions() as session, session.begin():
        name_speaker(session, NEW, "SPEAKER_00", "Rosa Diaz", method="named-by-chair", made_by="t")
    assert match(sessions) == []
    with sessions() as session:
        assert find_speaker(session, NEW, "SPEAKER_01").person_id is None
