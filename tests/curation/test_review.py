"""A meeting's transcript review: `testimony review`, its place in the meeting JSON, and a re-transcription
making the transcript the machine's again."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.cli.main import main
from archive.db.models import Meeting, Recording, Segment
from archive.ingest.pipeline import save_transcript
from archive.transcribe.transcript import Transcript, TranscriptSegment, Word
from tests.factories.meetings import Line, add_meeting

SLUG = "2024-02-07-council"


def _meeting(sessions) -> None:  # type: ignore[no-untyped-def]
    add_meeting(sessions, SLUG, [Line("You're here illegally.", 3721.4, 3726.0, "Deputy Dan", "member")])


def _exported(runner) -> dict:  # type: ignore[no-untyped-def, type-arg]
    result = runner.invoke(main, ["export", SLUG, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.both_databases  # time zones: SQLite keeps none
def test_review_then_undo(sessions, runner) -> None:  # type: ignore[no-untyped-def]
    _meeting(sessions)
    assert _exported(runner)["reviewed"] is None

    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    result = runner.invoke(main, ["review", SLUG, "--by", "  Ana Curator "])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{SLUG}: the transcript is marked reviewed by Ana Curator\n"
    reviewed = _exported(runner)["reviewed"]
    assert set(reviewed) == {"by", "at"} and reviewed["by"] == "Ana Curator"
    at = dt.datetime.fromisoformat(reviewed["at"])
    assert at.utcoffset() == dt.timedelta(0)  # UTC on both databases (SQLite keeps no zone)
    assert before <= at <= dt.datetime.now(dt.UTC)

    result = runner.invoke(main, ["review", SLUG, "--undo"])
    assert result.exit_code == 0, result.output
    assert _exported(runner)["reviewed"] is None
    with sessions() as session:
        meeting = session.scalars(select(Meeting)).one()
        assert (meeting.reviewed_at, meeting.reviewed_by) == (None, None)


def test_the_json_keeps_the_contract_around_reviewed(sessions, runner) -> None:  # type: ignore[no-untyped-def]
    _meeting(sessions)
    runner.invoke(main, ["review", SLUG, "--by", "Ana"])
    document = _exported(runner)
    keys = ["meeting", "reviewed", "languages", "speakers", "segments", "overlaps", "gaps", "notices"]
    assert list(document) == keys
    assert set(document["meeting"]) == {"slug", "title", "date", "body", "source_url", "duration"}


def test_review_errors_are_one_line(sessions, runner) -> None:  # type: ignore[no-untyped-def]
    _meeting(sessions)
    for args, reason in [
        (["review", SLUG], "give either --by NAME (reviewed) or --undo (unreviewed)"),
        (["review", SLUG, "--by", "Ana", "--undo"], "give either --by NAME (reviewed) or --undo (unreviewed)"),
        (["review", SLUG, "--by", "   "], "--by: say who reviewed the transcript"),
        (["review", SLUG, "--by", "x" * 201], "--by: a reviewer's name has at most 200 characters"),
        (["review", "no-such-meeting", "--by", "Ana"], "no meeting with slug 'no-such-meeting'"),
        (["review", "no-such-meeting", "--undo"], "no meeting with slug 'no-such-meeting'"),
    ]:
        result = runner.invoke(main, args)
        assert result.exit_code == 1, args
        assert result.stderr == f"testimony: error: {reason}\n", args
        assert result.stdout == ""
    assert _exported(runner)["reviewed"] is None


def _transcript(text: str) -> Transcript:
    words = tuple(Word(word, 1.0 + i, 1.5 + i, 0.9) for i, word in enumerate(text.split()))
    segment = TranscriptSegment(1.0, 1.0 + len(words), text, words, -0.2, 0.01, "en")
    return Transcript("whisper", "tiny.en", "test", "en", 10.0, (segment,))


def test_a_new_machine_transcript_is_unreviewed(sessions, runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _meeting(sessions)
    assert runner.invoke(main, ["review", SLUG, "--by", "Ana"]).exit_code == 0
    with sessions() as session:
        recording_id = session.scalars(select(Recording.id)).one()
    transcript = _transcript("You are here legally.")
    path = tmp_path / "transcript.json"
    path.write_text(transcript.to_json(), encoding="utf-8")

    save_transcript(sessions, recording_id, transcript, path)

    with sessions() as session:
        assert session.scalars(select(Segment.text)).all() == ["You are here legally."]
        meeting = session.scalars(select(Meeting)).one()
        assert (meeting.reviewed_at, meeting.reviewed_by) == (None, None)
    assert _exported(runner)["reviewed"] is None
