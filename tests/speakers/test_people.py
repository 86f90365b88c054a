"""Attributions: naming a voice, merging and splitting labels, consent, deleting a person (SQLite and PostgreSQL)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from archive.db.models import Attribution, Meeting, Person, Segment, Speaker, VoicePrint
from archive.errors import InvalidInput, NotFound
from archive.publish.documents import meeting_document
from archive.speakers.people import (
    apply_voice_matches,
    attribute,
    delete_person,
    find_speaker,
    merge_speakers,
    name_speaker,
    set_consent,
    split_speaker,
)
from archive.speakers.voices import from_bytes
from tests.factories.meetings import Line, add_meeting
from tests.factories.speakers import unit

SLUG = "2024-02-07-council"


@pytest.fixture
def meeting(sessions) -> str:  # type: ignore[no-untyped-def]
    """Two unnamed voices: SPEAKER_00 (three segments) and SPEAKER_01 (one), and an unassigned segment."""
    add_meeting(
        sessions,
        SLUG,
        [
            Line("Good evening, I am Rosa.", 0.0, 5.0, speaker="a", label_only=True),
            Line("Thank you, go ahead.", 5.0, 8.0, speaker="b", label_only=True),
            Line("I drive to the grocery store.", 10.0, 15.0, speaker="a", label_only=True),
            Line("And I was stopped.", 20.0, 25.0, speaker="a", label_only=True),
            Line("[inaudible]", 30.0, 31.0),
        ],
    )
    return SLUG


def ledger(session, speaker_id: int) -> list[tuple[str, int | None, str]]:  # type: ignore[no-untyped-def]
    rows = session.scalars(select(Attribution).where(Attribution.speaker_id == speaker_id).order_by(Attribution.id))
    return [(row.method, row.person_id, row.made_by) for row in rows]


def test_naming_a_voice_names_every_segment_and_records_how(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        speaker = name_speaker(
            session,
            meeting,
            "SPEAKER_00",
            "  Rosa   Diaz ",
            role="public commenter",
            method="self-identified",
            note="says her name at 0:00:01",
            made_by="tester",
        )
        person_id = speaker.person_id
    with sessions() as session:
        document = meeting_document(session, meeting)
        names = [s["speaker"]["name"] if s["speaker"] else None for s in document["segments"]]
        assert names == ["Rosa Diaz", None, "Rosa Diaz", "Rosa Diaz", None]
        speaker = find_speaker(session, meeting, "SPEAKER_00")
        assert (speaker.attribution, speaker.attribution_note) == ("self-identified", "says her name at 0:00:01")
        assert speaker.person.role == "public commenter"
        assert ledger(session, speaker.id) == [("self-identified", person_id, "tester")]
        assert document["speakers"][0] | {"talk_time": None} == {
            "label": "SPEAKER_00",
            "name": "Rosa Diaz",
            "role": "public commenter",
            "talk_time": None,
            "person_id": person_id,
            "attribution": "self-identified",
        }


def test_a_name_is_one_person_across_meetings(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    add_meeting(sessions, "2024-03-06-council", [Line("Hello again.", 0.0, 2.0, speaker="x", label_only=True)])
    with sessions() as session, session.begin():
        first = name_speaker(session, meeting, "SPEAKER_00", "Rosa Diaz", role="public commenter", made_by="t")
        again = name_speaker(session, "2024-03-06-council", "SPEAKER_00", "Rosa Diaz", made_by="t")
        assert again.person_id == first.person_id
        assert again.person.role == "public commenter"  # not given: kept
        name_speaker(
            session, "2024-03-06-council", "SPEAKER_00", "Rosa Diaz", affiliation="Migrant Justice", made_by="t"
        )
    with sessions() as session:
        people = session.scalars(select(Person)).all()
        assert [(p.name, p.role, p.affiliation) for p in people] == [
            ("Rosa Diaz", "public commenter", "Migrant Justice")
        ]


def test_labels_and_meetings_that_do_not_exist_are_named_in_the_error(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        with pytest.raises(NotFound) as error:
            name_speaker(session, meeting, "SPEAKER_07", "Rosa", made_by="t")
        assert str(error.value) == (
            f"meeting {meeting!r} has no speaker 'SPEAKER_07'; its speakers: SPEAKER_00, SPEAKER_01"
        )
        with pytest.raises(NotFound, match="no meeting with slug 'nope'"):
            name_speaker(session, "nope", "SPEAKER_00", "Rosa", made_by="t")
        with pytest.raises(InvalidInput, match="must not be empty"):
            name_speaker(session, meeting, "SPEAKER_00", "   ", made_by="t")
        with pytest.raises(InvalidInput, match="method must be one of"):
            name_speaker(session, meeting, "SPEAKER_00", "Rosa", method="voice-match", made_by="t")
        # Forgiving spellings of a label.
        assert find_speaker(session, meeting, "speaker_01").label == "SPEAKER_01"
        assert find_speaker(session, meeting, "1").label == "SPEAKER_01"


def test_namesakes_are_chosen_by_id(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        session.add_all([Person(name="Sam Lee", role="chair"), Person(name="Sam Lee", role="public commenter")])
    with sessions() as session, session.begin():
        ids = session.scalars(select(Person.id).order_by(Person.id)).all()
        with pytest.raises(InvalidInput) as error:
            name_speaker(session, meeting, "SPEAKER_01", "Sam Lee", made_by="t")
        assert f"{ids[0]}: Sam Lee (chair)" in str(error.value)
        assert f"{ids[1]}: Sam Lee (public commenter)" in str(error.value)
        assert "--person" in str(error.value)
        with pytest.raises(InvalidInput, match="is 'Sam Lee', not 'Samuel Lee'"):
            name_speaker(session, meeting, "SPEAKER_01", "Samuel Lee", person_id=ids[1], made_by="t")
        with pytest.raises(NotFound, match="no person with id 999"):
            name_speaker(session, meeting, "SPEAKER_01", "Sam Lee", person_id=999, made_by="t")
        speaker = name_speaker(session, meeting, "SPEAKER_01", "Sam Lee", person_id=ids[1], made_by="t")
        assert speaker.person_id == ids[1]


def test_the_voice_print_follows_a_corrected_name(sessions, meeting: str, give_voice) -> None:  # type: ignore[no-untyped-def]
    give_voice(meeting, "SPEAKER_00", unit(1.0))
    with sessions() as session, session.begin():
        rosa = name_speaker(session, meeting, "SPEAKER_00", "Rosa Diaz", made_by="t").person_id
        assert session.scalar(select(VoicePrint.person_id)) == rosa
        ann = name_speaker(session, meeting, "SPEAKER_00", "Ann Park", made_by="t").person_id
    with sessions() as session:
        prints = session.scalars(select(VoicePrint)).all()
        assert [(p.person_id, p.meetings, p.speech_seconds) for p in prints] == [(ann, 1, 30.0)]
        speaker = find_speaker(session, meeting, "SPEAKER_00")
        assert [method for method, _, _ in ledger(session, speaker.id)] == ["curator", "curator"]


def test_merging_moves_segments_and_combines_the_voices(sessions, meeting: str, give_voice) -> None:  # type: ignore[no-untyped-def]
    give_voice(meeting, "SPEAKER_00", unit(1.0), seconds=30.0, turns=[[0.0, 5.0], [10.0, 15.0]])
    give_voice(meeting, "SPEAKER_01", unit(0.0), seconds=10.0, turns=[[5.0, 8.0]])
    with sessions() as session, session.begin():
        rosa = name_speaker(session, meeting, "SPEAKER_00", "Rosa Diaz", made_by="t").person_id
        other_id = find_speaker(session, meeting, "SPEAKER_01").id
        kept = merge_speakers(session, meeting, "SPEAKER_00", "SPEAKER_01", made_by="t")
        kept_id = kept.id
    with sessions() as session:
        assert session.get(Speaker, other_id) is None
        assert session.scalars(select(Segment.speaker_id).where(Segment.speaker_id.is_not(None))).all() == [kept_id] * 4
        kept = session.get_one(Speaker, kept_id)
        expected = np.array([0.75, 0.25, 0.0, 0.0]) / np.linalg.norm([0.75, 0.25])  # weighted by speech time
        assert np.allclose(from_bytes(kept.embedding), expected, atol=1e-6)
        assert kept.speech_seconds == 40.0
        assert kept.turns == [[0.0, 5.0], [5.0, 8.0], [10.0, 15.0]]
        assert ledger(session, kept_id) == [("curator", rosa, "t"), ("merged", rosa, "t")]
        voice_print = session.scalars(select(VoicePrint)).one()
        assert np.allclose(from_bytes(voice_print.embedding), expected, atol=1e-6)
        assert voice_print.speech_seconds == 40.0
        names = {s["speaker"]["name"] for s in meeting_document(session, meeting)["segments"] if s["speaker"]}
        assert names == {"Rosa Diaz"}


def test_merging_into_an_unnamed_label_keeps_the_other_name_and_history(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        rosa = name_speaker(session, meeting, "SPEAKER_01", "Rosa Diaz", method="named-by-chair", made_by="t")
        rosa_id = rosa.person_id
        kept = merge_speakers(session, meeting, "SPEAKER_00", "SPEAKER_01", made_by="t")
        assert (kept.person_id, kept.attribution) == (rosa_id, "named-by-chair")
        assert [m for m, _, _ in ledger(session, kept.id)] == ["named-by-chair", "merged", "named-by-chair"]


def test_merging_two_different_people_is_refused(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        name_speaker(session, meeting, "SPEAKER_00", "Rosa Diaz", made_by="t")
        name_speaker(session, meeting, "SPEAKER_01", "Dan Doe", made_by="t")
    with sessions() as session:
        with pytest.raises(InvalidInput, match="SPEAKER_00 is attributed to Rosa Diaz .* and SPEAKER_01 to Dan Doe"):
            merge_speakers(session, meeting, "SPEAKER_00", "SPEAKER_01", made_by="t")
        with pytest.raises(InvalidInput, match="cannot be merged with itself"):
            merge_speakers(session, meeting, "SPEAKER_00", "0", made_by="t")
    with sessions() as session:
        assert len(session.scalars(select(Speaker)).all()) == 2


def test_splitting_moves_the_segments_in_the_span_to_a_new_label(sessions, meeting: str, give_voice) -> None:  # type: ignore[no-untyped-def]
    give_voice(meeting, "SPEAKER_00", unit(1.0), turns=[[0.0, 5.0], [9.0, 16.0], [20.0, 25.0]])
    with sessions() as session, session.begin():
        name_speaker(session, meeting, "SPEAKER_00", "Rosa Diaz", made_by="t")
        # 12.5 is the middle of 10–15; 0–5 and 20–25 lie outside 9–16.
        result = split_speaker(session, meeting, "SPEAKER_00", 9.0, 16.0, made_by="t")
        assert (result.source, result.target, result.created, result.moved) == ("SPEAKER_00", "SPEAKER_02", True, 1)
    with sessions() as session:
        new = find_speaker(session, meeting, "SPEAKER_02")
        assert (new.person_id, new.embedding, new.turns) == (None, None, [[9.0, 16.0]])
        moved = session.scalars(select(Segment.text).where(Segment.speaker_id == new.id)).all()
        assert moved == ["I drive to the grocery store."]
        source = find_speaker(session, meeting, "SPEAKER_00")
        assert source.turns == [[0.0, 5.0], [20.0, 25.0]]
        assert source.person.name == "Rosa Diaz"
        assert [m for m, _, _ in ledger(session, source.id)] == ["curator", "split"]
        assert [m for m, _, _ in ledger(session, new.id)] == ["split"]


def test_splitting_into_an_existing_label_and_the_errors(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        # 14–26 holds the middles of 10–15 (12.5) and 20–25 (22.5).
        result = split_speaker(session, meeting, "SPEAKER_00", 12.0, 26.0, into_label="SPEAKER_01", made_by="t")
        assert (result.target, result.created, result.moved) == ("SPEAKER_01", False, 2)
        with pytest.raises(InvalidInput, match="SPEAKER_00 of meeting .* has no segment between 0:01:00 and 0:02:00"):
            split_speaker(session, meeting, "SPEAKER_00", 60.0, 120.0, made_by="t")
        with pytest.raises(InvalidInput, match="ends .* before it starts"):
            split_speaker(session, meeting, "SPEAKER_00", 10.0, 5.0, made_by="t")
        with pytest.raises(InvalidInput, match="cannot be split into itself"):
            split_speaker(session, meeting, "SPEAKER_00", 0.0, 5.0, into_label="SPEAKER_00", made_by="t")
    with sessions() as session:
        by_label = {
            label: text
            for label, text in session.execute(select(Speaker.label, Segment.text).join(Segment.speaker)).all()
            if label == "SPEAKER_00"
        }
        assert by_label == {"SPEAKER_00": "Good evening, I am Rosa."}
        assert len(session.scalars(select(Speaker)).all()) == 2  # no new label


def test_no_voice_match_deletes_the_print_and_withdraws_matches(sessions, meeting: str, give_voice) -> None:  # type: ignore[no-untyped-def]
    give_voice(meeting, "SPEAKER_00", unit(1.0))
    add_meeting(
        sessions,
        "2024-03-06-council",
        [
            Line("Me again.", 0.0, 4.0, speaker="x", label_only=True),
            Line("Hi.", 4.0, 5.0, speaker="y", label_only=True),
        ],
    )
    give_voice("2024-03-06-council", "SPEAKER_00", unit(0.95))
    give_voice("2024-03-06-council", "SPEAKER_01", unit(0.6, axis=2))
    with sessions() as session, session.begin():
        rosa = name_speaker(session, meeting, "SPEAKER_00", "Rosa Diaz", made_by="t").person
        later = session.scalar(select(Meeting).where(Meeting.slug == "2024-03-06-council"))
        outcomes = apply_voice_matches(session, later)
        assert [(o.label, o.action) for o in outcomes] == [("SPEAKER_00", "suggested")]
        set_consent(session, rosa, "no-voice-match", made_by="t")
    with sessions() as session, session.begin():
        assert session.scalars(select(VoicePrint)).all() == []
        matched = find_speaker(session, "2024-03-06-council", "SPEAKER_00")
        assert (matched.person_id, matched.attribution, matched.suggested_person_id) == (None, None, None)
        assert ledger(session, matched.id) == []  # a suggestion never was an attribution
        # The human attribution stays: she is still named where people named her.
        assert find_speaker(session, meeting, "SPEAKER_00").person.name == "Rosa Diaz"
        # Never matched again, even by a voice identical to hers.
        later = session.scalar(select(Meeting).where(Meeting.slug == "2024-03-06-council"))
        assert apply_voice_matches(session, later) == []
        assert find_speaker(session, "2024-03-06-council", "SPEAKER_00").suggested_person_id is None
        with pytest.raises(InvalidInput, match="has not agreed to voice matching"):
            attribute(session, matched, session.scalars(select(Person)).one(), "voice-match", made_by="t")
    with sessions() as session, session.begin():
        rosa = session.scalars(select(Person)).one()
        set_consent(session, rosa, "public", made_by="t")  # back to public: the print is rebuilt
        assert session.scalars(select(VoicePrint.person_id)).all() == [rosa.id]
        with pytest.raises(InvalidInput, match="consent 'secret' is not one of"):
            set_consent(session, rosa, "secret", made_by="t")


def test_an_anonymous_person_is_shown_by_role(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        person = name_speaker(session, meeting, "SPEAKER_00", "Elena Ruiz", role="farmworker", made_by="t").person
        set_consent(session, person, "anonymous", made_by="t")
    with sessions() as session:
        document = meeting_document(session, meeting)
        assert document["speakers"][0]["name"] == "farmworker"
        assert "Elena" not in str(document) and "Ruiz" not in str(document)


def test_deleting_a_person_unattributes_their_voices_and_deletes_the_print(sessions, meeting: str, give_voice) -> None:  # type: ignore[no-untyped-def]
    give_voice(meeting, "SPEAKER_00", unit(1.0))
    with sessions() as session, session.begin():
        speaker = name_speaker(session, meeting, "SPEAKER_00", "Rosa Diaz", made_by="t")
        speaker_id, person_id = speaker.id, speaker.person_id
        assert session.scalars(select(VoicePrint.person_id)).all() == [person_id]
        find_speaker(session, meeting, "SPEAKER_01").suggested_person_id = person_id
    with sessions() as session, session.begin():
        delete_person(session, session.get_one(Person, person_id), made_by="t")
    with sessions() as session:
        assert session.get(Person, person_id) is None
        assert session.scalars(select(VoicePrint)).all() == []
        speaker = session.get_one(Speaker, speaker_id)
        assert (speaker.person_id, speaker.attribution) == (None, None)
        assert speaker.embedding is not None  # the voice stays; only who it was is forgotten
        assert ledger(session, speaker_id) == [("curator", None, "t"), ("withdrawn", None, "t")]
        assert find_speaker(session, meeting, "SPEAKER_01").suggested_person_id is None
        assert all(
            s["speaker"] is None or s["speaker"]["name"] is None for s in meeting_document(session, meeting)["segments"]
        )
