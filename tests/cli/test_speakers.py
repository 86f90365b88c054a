"""`testimony speakers …` and `testimony people …`: thin commands over archive.speakers.people."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive.cli.main import main
from archive.db.models import Attribution, Person, Speaker, VoicePrint
from archive.speakers.people import find_speaker
from tests.factories.meetings import Line, add_meeting
from tests.factories.speakers import unit

SLUG = "2024-02-07-council"


@pytest.fixture
def meeting(sessions) -> str:  # type: ignore[no-untyped-def]
    add_meeting(
        sessions,
        SLUG,
        [
            Line("Good evening, public comment is open.", 0.0, 5.0, speaker="chair", label_only=True),
            Line("I drive to the grocery store every week.", 5.0, 3700.0, speaker="rosa", label_only=True),
            Line("Thank you.", 3700.0, 3702.0, speaker="chair", label_only=True),
        ],
    )
    return SLUG


def ok(runner: CliRunner, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    result = runner.invoke(main, list(args), input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def fails(runner: CliRunner, *args: str, input: str | None = None) -> str:
    """The one line a failing command prints on stderr (never a traceback)."""
    result = runner.invoke(main, list(args), input=input)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.stderr.strip().splitlines()[-1]


def test_name_a_speaker_list_it_and_find_it_in_search(runner: CliRunner, meeting: str) -> None:
    ok(runner, "reindex")  # indexed while the voice had no name
    # The command's contract: `testimony speakers name SLUG LABEL NAME [--role R]`.
    named = ok(runner, "speakers", "name", meeting, "SPEAKER_01", "Rosa Diaz", "--role", "public commenter")
    assert named.stdout.strip() == "SPEAKER_01 is Rosa Diaz (public commenter) (person 1)"
    ok(
        runner,
        *("speakers", "name", meeting, "0", "Dan Doe", "--role", "chair", "--affiliation", "Vermont Sheriffs"),
        *("--how", "named-by-chair", "--note", "introduced himself as chair"),
    )
    listing = ok(runner, "speakers", "list", meeting).stdout.splitlines()
    assert listing == [
        "SPEAKER_00   0:00:07  Dan Doe (chair, Vermont Sheriffs) #2  [named-by-chair]",
        "SPEAKER_01   1:01:35  Rosa Diaz (public commenter) #1  [curator]",
    ]
    # The index was brought up to date by the command: search by the new name finds her words.
    found = json.loads(ok(runner, "search", "grocery", "--speaker", "Rosa Diaz", "--json").stdout)
    assert found["total"] == 1
    assert found["results"][0]["speaker"]["name"] == "Rosa Diaz"
    exported = json.loads(ok(runner, "export", meeting, "--format", "json").stdout)
    assert [(s["label"], s["name"], s["attribution"]) for s in exported["speakers"]] == [
        ("SPEAKER_00", "Dan Doe", "named-by-chair"),
        ("SPEAKER_01", "Rosa Diaz", "curator"),
    ]


def test_the_list_shows_voice_matches_and_suggestions_never_embeddings(runner, sessions, meeting, give_voice) -> None:  # type: ignore[no-untyped-def]
    give_voice(meeting, "SPEAKER_01", unit(0.6))
    with sessions() as session, session.begin():
        person = Person(name="Rosa Diaz", role="public commenter")
        session.add(person)
        session.flush()
        speaker = find_speaker(session, meeting, "SPEAKER_01")
        speaker.suggested_person_id, speaker.suggestion_score = person.id, 0.6123
        chair = find_speaker(session, meeting, "SPEAKER_00")
        chair.person, chair.attribution = person, "named-by-chair"
    listing = ok(runner, "speakers", "list", meeting).stdout
    assert "SPEAKER_00   0:00:07  Rosa Diaz (public commenter) #1  [named-by-chair]" in listing
    assert "SPEAKER_01   1:01:35  (unnamed)  suggested: Rosa Diaz (public commenter) #1 (0.61)" in listing
    assert "embedding" not in listing.lower() and "\\x" not in listing


def test_errors_name_the_meeting_and_the_labels(runner: CliRunner, meeting: str) -> None:
    assert fails(runner, "speakers", "name", meeting, "SPEAKER_05", "Rosa") == (
        f"testimony: error: meeting '{meeting}' has no speaker 'SPEAKER_05'; its speakers: SPEAKER_00, SPEAKER_01"
    )
    assert (
        fails(runner, "speakers", "list", "no-such-meeting")
        == "testimony: error: no meeting with slug 'no-such-meeting'"
    )
    result = runner.invoke(main, ["speakers", "name", meeting, "SPEAKER_00", "Rosa", "--how", "voice-match"])
    assert result.exit_code == 2 and "voice-match" in result.stderr  # click refuses the choice
    ok(runner, "speakers", "name", meeting, "SPEAKER_00", "Rosa Diaz")
    ok(runner, "speakers", "name", meeting, "SPEAKER_01", "Dan Doe")
    assert fails(runner, "speakers", "merge", meeting, "SPEAKER_00", "SPEAKER_01").startswith(
        "testimony: error: SPEAKER_00 is attributed to Rosa Diaz (person 1) and SPEAKER_01 to Dan Doe (person 2)"
    )


def test_merge_and_split_with_clock_times(runner: CliRunner, sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    moved = ok(runner, "speakers", "split", meeting, "SPEAKER_00", "--from", "1:00:00", "--to", "1:02:00")
    assert moved.stdout.strip() == "moved 1 segment(s) from SPEAKER_00 to SPEAKER_02 (new)"
    assert fails(runner, "speakers", "split", meeting, "SPEAKER_00", "--from", "2:00:00", "--to", "7300") == (
        f"testimony: error: SPEAKER_00 of meeting '{meeting}' has no segment between 2:00:00 and 2:01:40"
    )
    assert "is not a time" in fails(runner, "speakers", "split", meeting, "SPEAKER_00", "--from", "soon", "--to", "9")
    merged = ok(runner, "speakers", "merge", meeting, "SPEAKER_00", "2")
    assert merged.stdout.strip() == "merged SPEAKER_02 into SPEAKER_00"
    ok(runner, "speakers", "split", meeting, "SPEAKER_01", "--from", "0", "--to", "3700", "--into", "SPEAKER_00")
    with sessions() as session:
        labels = session.scalars(select(Speaker.label).order_by(Speaker.label)).all()
        assert labels == ["SPEAKER_00", "SPEAKER_01"]  # SPEAKER_02 merged away
    txt = ok(runner, "export", meeting, "--format", "txt").stdout
    assert txt.splitlines()[3:] == [
        "[0:00:00] Speaker 1: Good evening, public comment is open.",  # SPEAKER_00 as people read it
        "[0:00:05] I drive to the grocery store every week.",
        "[1:01:40] Thank you.",
    ]


def test_people_list_edit_and_delete(runner: CliRunner, sessions, meeting: str, give_voice) -> None:  # type: ignore[no-untyped-def]
    give_voice(meeting, "SPEAKER_01", unit(1.0))
    ok(runner, "speakers", "name", meeting, "SPEAKER_01", "Rosa Diaz", "--role", "farmworker")
    assert ok(runner, "people", "list").stdout.splitlines() == ["    1  Rosa Diaz  farmworker  -  public  1 meeting(s)"]
    edited = ok(runner, "people", "edit", "1", "--consent", "anonymous", "--affiliation", "Migrant Justice")
    assert edited.stdout.strip() == "person 1: Rosa Diaz (farmworker, Migrant Justice) [anonymous]"
    with sessions() as session:
        assert session.scalars(select(VoicePrint)).all() == []  # anonymous: no voice print
    # Public surfaces show her role; the index was updated by the edit.
    found = json.loads(ok(runner, "search", "grocery", "--json").stdout)
    assert found["results"][0]["speaker"]["name"] == "farmworker"
    assert "Rosa" not in ok(runner, "export", meeting, "--format", "vtt").stdout
    assert fails(runner, "people", "edit", "1") == (
        "testimony: error: nothing to change: give --name, --role, --affiliation or --consent"
    )
    assert fails(runner, "people", "edit", "9", "--name", "X") == "testimony: error: no person with id 9"
    assert fails(runner, "people", "edit", "1", "--name", " ") == "testimony: error: the name must not be empty"
    # Deleting asks first; "n" deletes nothing.
    assert fails(runner, "people", "delete", "1", input="n\n") == "testimony: error: nothing deleted"
    ok(runner, "people", "delete", "1", input="y\n")
    assert ok(runner, "people", "list").stdout.startswith("no people yet")
    assert fails(runner, "people", "delete", "1", "--yes") == "testimony: error: no person with id 1"
    with sessions() as session:
        speaker = find_speaker(session, meeting, "SPEAKER_01")
        assert speaker.person_id is None
        methods = session.scalars(
            select(Attribution.method).where(Attribution.speaker_id == speaker.id).order_by(Attribution.id)
        ).all()
        assert methods == ["curator", "withdrawn"]
    found = json.loads(ok(runner, "search", "grocery", "--json").stdout)
    assert found["results"][0]["speaker"]["name"] is None


def test_a_suggestion_is_confirmed_or_rejected_from_the_command_line(runner, sessions, meeting) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        person = Person(name="Rosa Diaz", role="public commenter")
        session.add(person)
        session.flush()
        for label in ("SPEAKER_00", "SPEAKER_01"):
            speaker = find_speaker(session, meeting, label)
            speaker.suggested_person_id, speaker.suggestion_score = person.id, 0.81
    assert ok(runner, "speakers", "confirm", meeting, "SPEAKER_01").stdout.strip() == (
        "SPEAKER_01 is Rosa Diaz (public commenter) (person 1), confirmed"
    )
    assert "is not Rosa Diaz" in ok(runner, "speakers", "confirm", meeting, "SPEAKER_00", "--reject").stdout
    listing = ok(runner, "speakers", "list", meeting).stdout
    assert "SPEAKER_01   1:01:35  Rosa Diaz (public commenter) #1  [curator]" in listing
    assert "suggested" not in listing
    assert fails(runner, "speakers", "confirm", meeting, "SPEAKER_00") == (
        "testimony: error: SPEAKER_00 has no suggestion to confirm"
    )
