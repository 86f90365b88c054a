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

from archive.cli.main import main
from archive.db.models import Body, Meeting, Person, Recording, Segment, Speaker, TranscriptionRun
from archive.publish.documents import meeting_document
from archive.publish.formats import FORMATS, render
from archive.speakers.people import name_speaker
from tests.factories.meetings import Line, add_meeting, update_person

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
    person_id = document["speakers"][0]["person_id"]
    assert isinstance(person_id, int)
    assert document["speakers"] == [
        {
            "label": "SPEAKER_01",
            "name": "Deputy <b>Doe</b>",
            "role": "member",
            "talk_time": 4.6,
            "person_id": person_id,
            "attribution": None,  # a person set without saying how: the fixture's row, not an attribution
        }
    ]
    remark = document["segments"][1]
    assert remark["speaker"] == {
        "label": "SPEAKER_01",
        "name": "Deputy <b>Doe</b>",
        "role": "member",
        "person_id": person_id,
    }
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
    assert lines[:4] == [
        "Council <meeting>",
        "Council, 2024-02-07",
        "",
        "[0:00:12] Good evening, we now open public comment.",
    ]
    assert lines[4] == ""  # a blank line between speaker turns
    assert lines[5].startswith("[1:02:01] Deputy <b>Doe</b>: =HYPERLINK")


def test_an_unknown_meeting_is_a_clear_error(runner: CliRunner, meeting: str) -> None:
    result = runner.invoke(main, ["export", "no-such-meeting", "--format", "json"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "testimony: error: no meeting with slug 'no-such-meeting'"


# --- speakers in every format ----------------------------------------------------------------------------

VOICES = "2024-03-06-council"


@pytest.fixture
def voices(sessions) -> str:  # type: ignore[no-untyped-def]
    """A chair named by a curator, an unnamed voice (SPEAKER_01) in two turns, an anonymous testifier."""
    add_meeting(
        sessions,
        VOICES,
        [
            Line("We open public comment.", 1.0, 4.0, speaker="Dan Doe", role="chair"),
            Line("Good evening.", 4.5, 6.0, speaker="voice", label_only=True),
            Line("I was stopped\non my way.\n\nTwice.", 6.0, 9.25, speaker="voice", label_only=True),
            Line("Thank you.", 9.5, 10.0, speaker="Dan Doe", role="chair"),
            Line("I work on a farm in <Addison> & I'm afraid.", 10.5, 14.125, speaker="Elena Ruiz", role="farmworker"),
            Line("[applause]", 14.5, 15.0),
        ],
    )
    update_person(sessions, "Elena Ruiz", consent="anonymous")
    with sessions() as session, session.begin():
        name_speaker(session, VOICES, "SPEAKER_00", "Dan Doe", method="named-by-chair", made_by="t")
    return VOICES


def export(sessions, slug: str, fmt: str) -> str:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return render(meeting_document(session, slug), fmt)


def test_json_gives_each_speaker_its_person_and_attribution(sessions, voices: str) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(export(sessions, voices, "json"))
    speakers = [(s["label"], s["name"], s["role"], s["attribution"]) for s in document["speakers"]]
    assert speakers == [
        ("SPEAKER_00", "Dan Doe", "chair", "named-by-chair"),
        ("SPEAKER_01", None, None, None),
        ("SPEAKER_02", "farmworker", "farmworker", "curator"),
    ]
    person_ids = [s["person_id"] for s in document["speakers"]]
    assert person_ids[1] is None and all(isinstance(i, int) for i in (person_ids[0], person_ids[2]))
    assert [s["speaker"]["person_id"] if s["speaker"] else "-" for s in document["segments"]] == [
        person_ids[0],
        None,
        None,
        person_ids[0],
        person_ids[2],
        "-",
    ]


def test_webvtt_cues_carry_the_voice(sessions, voices: str) -> None:  # type: ignore[no-untyped-def]
    text = export(sessions, voices, "vtt")
    captions = webvtt.from_string(text)
    assert [c.raw_text for c in captions] == [
        "<v Dan Doe>We open public comment.",
        "<v Speaker 2>Good evening.",
        "<v Speaker 2>I was stopped on my way. Twice.",  # a blank line would have ended the cue
        "<v Dan Doe>Thank you.",
        "<v farmworker>I work on a farm in &lt;Addison&gt; &amp; I'm afraid.",
        "[applause]",
    ]
    assert [c.voice for c in captions][:2] == ["Dan Doe", "Speaker 2"]  # SPEAKER_01, unnamed: a neutral label


def test_text_names_the_speaker_where_each_turn_starts(sessions, voices: str) -> None:  # type: ignore[no-untyped-def]
    lines = export(sessions, voices, "txt").splitlines()[2:]
    assert lines == [
        "",
        "[0:00:01] Dan Doe: We open public comment.",
        "",
        "[0:00:04] Speaker 2: Good evening.",
        "[0:00:06] I was stopped on my way. Twice.",
        "",
        "[0:00:09] Dan Doe: Thank you.",
        "",
        "[0:00:10] farmworker: I work on a farm in <Addison> & I'm afraid.",
        "",
        "[0:00:14] [applause]",
    ]


def test_csv_has_the_speaker_of_each_segment(sessions, voices: str) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.DictReader(io.StringIO(export(sessions, voices, "csv"))))
    assert [row["speaker"] for row in rows] == ["Dan Doe", "Speaker 2", "Speaker 2", "Dan Doe", "farmworker", ""]


def test_rttm_parses_back_to_the_segments_and_speakers(sessions, voices: str) -> None:  # type: ignore[no-untyped-def]
    text = export(sessions, voices, "rttm")
    turns = []
    for line in text.splitlines():
        fields = line.split(" ")
        assert len(fields) == 10, line
        kind, uri, channel, start, duration, ortho, stype, name, conf, lookahead = fields
        assert (kind, uri, channel, ortho, stype, conf, lookahead) == ("SPEAKER", voices, "1", *["<NA>"] * 4)
        assert start == f"{float(start):.3f}" and duration == f"{float(duration):.3f}"  # three decimals
        turns.append((float(start), round(float(start) + float(duration), 3), name))
    assert turns == [
        (1.0, 4.0, "Dan_Doe"),
        (4.5, 6.0, "Speaker_2"),
        (6.0, 9.25, "Speaker_2"),
        (9.5, 10.0, "Dan_Doe"),
        (10.5, 14.125, "farmworker"),
    ]  # the segment without a speaker has no line


def test_rttm_from_the_cli(runner: CliRunner, voices: str) -> None:
    result = runner.invoke(main, ["export", voices, "--format", "rttm"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"SPEAKER {voices} 1 1.000 3.000 <NA> <NA> Dan_Doe <NA> <NA>"


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_anonymous_person_is_exported_by_role_only(sessions, voices: str, fmt: str) -> None:  # type: ignore[no-untyped-def]
    text = export(sessions, voices, fmt)
    assert "Elena" not in text and "Ruiz" not in text
    assert "farmworker" in text
    assert "embedding" not in text and "voice_print" not in text


# --- round trips and formula cells, on awkward input -----------------------------------------------------

AWKWARD = "2024-04-03-awkward"


@pytest.fixture
def awkward(sessions) -> str:  # type: ignore[no-untyped-def]
    """Times that round across a second, and cells that spreadsheets would run as formulas."""
    add_meeting(
        sessions,
        AWKWARD,
        [
            Line("=SUM(A1:A9) is the budget", 0.0004, 1.9996, speaker="=Evil Name", role="member"),
            Line("+1 for the motion", 59.9996, 61.0005, speaker="+Plus", role="member"),
            Line("@everyone listen", 3599.4994, 3600.0, speaker="@handle", role="public commenter"),
            Line("-2 votes against", 3600.001, 3601.25),
            Line("\tTabbed start", 3602.0, 3603.0),
        ],
    )
    return AWKWARD


def test_webvtt_round_trips_every_cue_to_the_millisecond(sessions, awkward: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        document = meeting_document(session, awkward)
    captions = webvtt.from_string(render(document, "vtt"))
    assert len(captions) == len(document["segments"])
    for caption, segment in zip(captions, document["segments"], strict=True):
        assert _millis(caption.start) == round(segment["start"] * 1000)
        assert _millis(caption.end) == round(segment["end"] * 1000)
        name = segment["speaker"]["name"] if segment["speaker"] else None
        assert caption.voice == name
        assert caption.text == " ".join(segment["text"].split())
    assert [c.start for c in captions][:2] == ["00:00:00.000", "00:01:00.000"]  # 59.9996 s rounds up a minute


def test_srt_round_trips_every_subtitle_to_the_millisecond(sessions, awkward: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        document = meeting_document(session, awkward)
    subtitles = list(srt.parse(render(document, "srt")))
    assert [s.index for s in subtitles] == list(range(1, len(document["segments"]) + 1))
    for subtitle, segment in zip(subtitles, document["segments"], strict=True):
        assert subtitle.start == dt.timedelta(milliseconds=round(segment["start"] * 1000))
        assert subtitle.end == dt.timedelta(milliseconds=round(segment["end"] * 1000))
        name = segment["speaker"]["name"] if segment["speaker"] else None
        assert subtitle.content == (f"{name}: {segment['text']}" if name else segment["text"])


def _millis(timestamp: str) -> int:
    hours, minutes, seconds = timestamp.split(":")
    whole, millis = seconds.split(".")
    return ((int(hours) * 60 + int(minutes)) * 60 + int(whole)) * 1000 + int(millis)


def test_csv_neutralises_every_formula_start_in_names_and_text(sessions, awkward: str) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.DictReader(io.StringIO(export(sessions, awkward, "csv"))))
    assert [(row["speaker"], row["text"]) for row in rows] == [
        ("'=Evil Name", "'=SUM(A1:A9) is the budget"),
        ("'+Plus", "'+1 for the motion"),
        ("'@handle", "'@everyone listen"),
        ("", "'-2 votes against"),
        ("", "'\tTabbed start"),
    ]
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())


# --- excerpts ---------------------------------------------------------------------------------------------


def test_excerpts_export_as_json_and_safe_csv(runner: CliRunner, sessions, awkward: str) -> None:  # type: ignore[no-untyped-def]
    from archive.excerpts.manage import create_excerpt

    with sessions() as session, session.begin():
        create_excerpt(session, awkward, 0.0, 2.0, "=cmd|'/C calc'!A0", note="-note", created_by="t")
        create_excerpt(session, awkward, 60.0, 61.0, "Plus one", created_by="t")
    as_json = runner.invoke(main, ["excerpt", "export", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    documents = json.loads(as_json.stdout)
    assert [d["title"] for d in documents] == ["Plus one", "=cmd|'/C calc'!A0"]  # newest first
    assert documents[1]["quote"] == "=SUM(A1:A9) is the budget" and documents[1]["url"].startswith("/excerpts/")
    as_csv = runner.invoke(main, ["excerpt", "export", "--format", "csv", "--meeting", awkward])
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["title"], r["speakers"], r["quote"], r["note"]) for r in rows] == [
        ("Plus one", "'+Plus", "'+1 for the motion", ""),
        ("'=cmd|'/C calc'!A0", "'=Evil Name", "'=SUM(A1:A9) is the budget", "'-note"),
    ]
    assert rows[1]["timestamp"] == "0:00:00" and rows[1]["verified"] == "no"
    missing = runner.invoke(main, ["excerpt", "export", "--meeting", "nope"])
    assert missing.exit_code == 1 and missing.stderr.strip() == "testimony: error: no meeting with slug 'nope'"


def test_a_line_voiced_by_another_meetings_speaker_keeps_that_voice(sessions) -> None:  # type: ignore[no-untyped-def]
    """The document reads each line's voice from the meeting's own voices; a line pointing at another meeting's
    voice (nothing forbids it in the schema) still shows that voice, as reading through the ORM did."""
    from sqlalchemy import select, update

    add_meeting(sessions, "2024-02-07-first", [Line("We open the hearing.", 1.0, 3.0, "Chair Ames", "chair")])
    add_meeting(sessions, "2024-02-08-second", [Line("Thank you all.", 1.0, 3.0)])
    with sessions() as session, session.begin():
        chair = session.scalar(select(Speaker).join(Meeting).where(Meeting.slug == "2024-02-07-first"))
        second = session.scalar(select(Meeting.id).where(Meeting.slug == "2024-02-08-second"))
        session.execute(update(Segment).where(Segment.meeting_id == second).values(speaker_id=chair.id))
    with sessions() as session:
        (line,) = meeting_document(session, "2024-02-08-second")["segments"]
    assert line["text"] == "Thank you all."
    assert line["speaker"] == {
        "label": "SPEAKER_00",
        "name": "Chair Ames",
        "role": "chair",
        "person_id": line["speaker"]["person_id"],
    }
    assert line["speaker"]["person_id"] is not None


def test_captions_and_subtitles_per_language_keep_to_their_language(sessions, runner) -> None:  # type: ignore[no-untyped-def]
    """Issue 19's exports: a WebVTT and an SRT per language (the testimony as said, the interpretation)."""
    lines = [
        Line("Tengo miedo de la policía.", 20.0, 23.0, "María", "public commenter", language="es"),
        Line("I am afraid of the police.", 24.0, 27.0, "Ana", "interpreter"),
    ]
    add_meeting(sessions, "2024-03-06-interpreted", lines, date=dt.date(2024, 3, 6))
    with sessions() as session:
        document = meeting_document(session, "2024-03-06-interpreted")
    for language, line in (("es", lines[0]), ("en", lines[1])):
        [subtitle] = srt.parse(render(document, "srt", language))
        assert line.text in subtitle.content and subtitle.start.total_seconds() == line.start
        assert [c.text for c in webvtt.from_string(render(document, "vtt", language))] == [line.text]
    exported = runner.invoke(main, ["export", "2024-03-06-interpreted", "--format", "srt", "--lang", "es"])
    assert exported.exit_code == 0 and "Tengo miedo" in exported.stdout and "afraid" not in exported.stdout
