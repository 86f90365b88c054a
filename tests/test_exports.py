"""Exports of a meeting: JSON contract, caption formats that parse back, safe CSV, text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import srt
import webvtt
from click.testing import CliRunner

from archive.cli import main
from archive.db.models import Body, Meeting, Person, Recording, Segment, Speaker, TranscriptionRun
from archive.exports import meeting_document, render

WORDS = [{"word": "You're", "start": 3721.4, "end": 3721.7, "probability": 0.93}]


@pytest.fixture
def meeting(sessions) -> str:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        meeting = Meeting(
            slug="2024-02-07-council",
            body=Body(name="Council", slug="council"),
            title="Council <meeting>",
            date=dt.date(2024, 2, 7),
            source_url="https://example.org/m",
        )
        recording = Recording(
            meeting=meeting,
            sha256="c" * 64,
            suffix=".wav",
            original_name="m.wav",
            size=1,
            container="wav",
            duration=3800.0,
            streams=[],
        )
        run = TranscriptionRun(
            recording=recording,
            engine="whisper",
            model="tiny.en",
            engine_version="x",
            transcript_file="x.json",
            transcript_sha256="d" * 64,
        )
        deputy = Speaker(meeting=meeting, label="SPEAKER_01", person=Person(name="Deputy <b>Doe</b>", role="member"))
        session.add_all([meeting, recording, run, deputy])
        session.flush()
        rows = [
            (None, 12.0, 15.5, "Good evening, we now open public comment.", None, []),
            (
                deputy.id,
                3721.4,
                3726.0,
                '=HYPERLINK("http://x") you\'re here --> illegally & <script>',
                "remark",
                ["hot-mic"],
            ),
            (None, 3726.25, 3729.0, "-1 votes", None, []),
        ]
        for speaker_id, start, end, text, kind, tags in rows:
            session.add(
                Segment(
                    meeting_id=meeting.id,
                    recording_id=recording.id,
                    run_id=run.id,
                    speaker_id=speaker_id,
                    start=start,
                    end=end,
                    text=text,
                    words=WORDS,
                    language="en",
                    kind=kind,
                    tags=tags,
                )
            )
    return "2024-02-07-council"


def test_json_follows_the_contract(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        document = json.loads(render(meeting_document(session, meeting), "json"))
    assert document["meeting"] == {
        "slug": meeting,
        "title": "Council <meeting>",
        "date": "2024-02-07",
        "body": "Council",
        "source_url": "https://example.org/m",
        "duration": 3800.0,
    }
    assert document["speakers"] == [
        {"label": "SPEAKER_01", "name": "Deputy <b>Doe</b>", "role": "member", "talk_time": 4.6}
    ]
    remark = document["segments"][1]
    assert remark["speaker"] == {"label": "SPEAKER_01", "name": "Deputy <b>Doe</b>", "role": "member"}
    assert (remark["kind"], remark["tags"], remark["words"], remark["start"]) == ("remark", ["hot-mic"], WORDS, 3721.4)


def test_webvtt_parses_back_with_voices_and_exact_times(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        text = render(meeting_document(session, meeting), "vtt")
    captions = webvtt.from_string(text)
    assert [(c.start, c.end) for c in captions] == [
        ("00:00:12.000", "00:00:15.500"),
        ("01:02:01.400", "01:02:06.000"),
        ("01:02:06.250", "01:02:09.000"),
    ]
    assert "<v Deputy &lt;b&gt;Doe&lt;/b&gt;>" in text
    assert "--&gt; illegally &amp; &lt;script&gt;" in text  # a cue cannot be broken by its text


def test_srt_parses_back_to_the_millisecond(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        subtitles = list(srt.parse(render(meeting_document(session, meeting), "srt")))
    assert [(s.start.total_seconds(), s.end.total_seconds()) for s in subtitles] == [
        (12.0, 15.5),
        (3721.4, 3726.0),
        (3726.25, 3729.0),
    ]
    assert subtitles[1].content.startswith("Deputy <b>Doe</b>: =HYPERLINK")


def test_csv_neutralises_formulas(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        rows = list(csv.DictReader(io.StringIO(render(meeting_document(session, meeting), "csv"))))
    assert rows[1]["text"].startswith("'=HYPERLINK")
    assert rows[2]["text"] == "'-1 votes"
    assert rows[1]["timestamp"] == "1:02:01"
    assert rows[0]["text"] == "Good evening, we now open public comment."


def test_text_and_the_cli(runner: CliRunner, meeting: str) -> None:
    result = runner.invoke(main, ["export", meeting, "--format", "txt"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == ["Council <meeting>", "Council, 2024-02-07"]
    assert lines[3] == "[0:00:12] Good evening, we now open public comment."
    assert lines[4].startswith("[1:02:01] Deputy <b>Doe</b>: =HYPERLINK")


def test_an_unknown_meeting_is_a_clear_error(runner: CliRunner, meeting: str) -> None:
    result = runner.invoke(main, ["export", "no-such-meeting", "--format", "json"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "testimony: error: no meeting with slug 'no-such-meeting'"
