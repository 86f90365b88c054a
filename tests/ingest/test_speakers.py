"""Ingest end to end with speakers: real transcription, real diarization, SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive.cli.main import main
from archive.config import Settings
from archive.db.models import Attribution, Meeting, Segment, Speaker
from archive.home import open_home
from tests.factories.media import FIXTURES, encode, speech

MEETING = ["--body", "Test Council", "--title", "Call-in show", "--date", "2024-03-05", "--engine", "faster-whisper"]


def ingest(runner: CliRunner, path: Path, *extra: str) -> str:
    result = runner.invoke(main, ["ingest", str(path), *MEETING, *extra])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout.splitlines()[-1]


def speakers_and_segments(settings: Settings, slug: str) -> tuple[list[Speaker], list[Segment]]:
    sessions = open_home(settings)
    with sessions() as session:
        meeting = session.scalars(
            select(Meeting)
            .where(Meeting.slug == slug)
            .options(
                selectinload(Meeting.speakers).selectinload(Speaker.person),
                selectinload(Meeting.speakers).selectinload(Speaker.suggested_person),
                selectinload(Meeting.segments),
            )
        ).one()
        result = list(meeting.speakers), list(meeting.segments)
    sessions.kw["bind"].dispose()
    return result


def segment_saying(segments: list[Segment], words: str) -> Segment:
    return next(s for s in segments if words.lower() in s.text.lower())


def test_ingest_finds_who_said_what(runner: CliRunner, settings: Settings) -> None:
    result = runner.invoke(main, ["ingest", str(FIXTURES / "sample.wav"), *MEETING])
    assert result.exit_code == 0, result.output
    assert "2 speakers in" in result.stderr
    slug = result.stdout.splitlines()[-1]
    speakers, segments = speakers_and_segments(settings, slug)
    assert [s.label for s in speakers] == ["SPEAKER_00", "SPEAKER_01"]
    assert all(s.embedding is not None and s.turns and s.speech_seconds > 5 for s in speakers)
    assert all(s.speaker_id is not None for s in segments)  # every segment has its one speaker
    diane = segment_saying(segments, "Diane in New Jersey")
    sheila = segment_saying(segments, "I'm Sheila")  # tiny.en hears "Sheila and Texas" on this phone line
    assert diane.speaker_id != sheila.speaker_id
    # The export carries the voices: WebVTT <v …> and RTTM.
    vtt = runner.invoke(main, ["export", slug, "--format", "vtt"]).stdout
    assert "<v Speaker 1>" in vtt and "<v Speaker 2>" in vtt  # SPEAKER_00 and SPEAKER_01 as people read them
    assert runner.invoke(main, ["check"]).exit_code == 0


def test_named_voices_survive_a_retranscription_and_block_a_rediarization(
    runner: CliRunner, settings: Settings
) -> None:
    slug = ingest(runner, FIXTURES / "sample.wav")
    speakers, segments = speakers_and_segments(settings, slug)
    diane_label = next(s.label for s in speakers if s.id == segment_saying(segments, "Diane").speaker_id)
    named = runner.invoke(main, ["speakers", "name", slug, diane_label, "Diane", "--how", "self-identified"])
    assert named.exit_code == 0, named.output
    again = runner.invoke(main, ["transcribe", slug, "--engine", "whisper"])
    assert again.exit_code == 0, again.output
    speakers, segments = speakers_and_segments(settings, slug)
    diane = segment_saying(segments, "Diane")
    assert next(s for s in speakers if s.id == diane.speaker_id).person.name == "Diane"
    assert all(s.speaker_id is not None for s in segments)
    refused = runner.invoke(main, ["diarize", slug])
    assert refused.exit_code == 1
    assert f"{diane_label} were identified by a person" in refused.stderr


def test_a_voice_named_in_one_meeting_is_recognised_in_the_next(
    runner: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    """The first half of sample.wav is one meeting, the second half the next one."""
    audio = speech("sample.wav")
    first = encode(audio[: 16_000 * 15], tmp_path / "first.wav", "wav", "pcm_s16le")
    second = encode(audio[16_000 * 15 :], tmp_path / "second.wav", "wav", "pcm_s16le")
    one = ingest(runner, first)
    speakers, segments = speakers_and_segments(settings, one)
    assert len(speakers) == 2
    # "This is Diane in New Jersey" (tiny.en's words for "Diane" vary on this phone line).
    diane_label = next(s.label for s in speakers if s.id == segment_saying(segments, "New Jersey").speaker_id)
    other_label = next(s.label for s in speakers if s.label != diane_label)
    for label, name in ((diane_label, "Diane"), (other_label, "Sheila")):
        result = runner.invoke(main, ["speakers", "name", one, label, name, "--how", "self-identified"])
        assert result.exit_code == 0, result.output

    result = runner.invoke(main, ["ingest", str(second), *MEETING[:5], "2024-04-02", *MEETING[6:]])
    assert result.exit_code == 0, result.output
    two = result.stdout.splitlines()[-1]
    speakers, segments = speakers_and_segments(settings, two)
    # Recognised, but only suggested: nobody is named in public until a curator confirms it.
    assert [s.person for s in speakers] == [None, None]
    by_person = {s.suggested_person.name: s for s in speakers if s.suggested_person is not None}
    assert set(by_person) == {"Diane", "Sheila"}
    for speaker in by_person.values():
        assert speaker.attribution is None
        assert speaker.suggestion_score >= 0.70
    assert "may be Diane" in result.stderr and "a suggestion until a curator confirms it" in result.stderr
    # In the second half, each says what the reference transcript (sample.stm) says they say.
    assert segment_saying(segments, "Chicago also").speaker_id == by_person["Diane"].id
    assert segment_saying(segments, "Yankee").speaker_id == by_person["Sheila"].id
    sessions = open_home(settings)
    with sessions() as session:
        methods = session.scalars(select(Attribution.method).order_by(Attribution.id)).all()
    sessions.kw["bind"].dispose()
    assert methods == ["self-identified", "self-identified"]


def test_silence_gives_no_speakers(runner: CliRunner, settings: Settings, tmp_path: Path) -> None:
    silence = encode(np.zeros(16_000 * 20, np.float32), tmp_path / "silence.wav", "wav", "pcm_s16le")
    result = runner.invoke(main, ["ingest", str(silence), *MEETING])
    assert result.exit_code == 0, result.output
    assert "0 speakers in" in result.stderr
    speakers, segments = speakers_and_segments(settings, result.stdout.splitlines()[-1])
    assert speakers == [] and segments == []


def test_no_diarize_leaves_voices_for_later(runner: CliRunner, settings: Settings) -> None:
    slug = ingest(runner, FIXTURES / "jfk.flac", "--no-diarize")
    assert speakers_and_segments(settings, slug)[0] == []
    result = runner.invoke(main, ["diarize", slug])
    assert result.exit_code == 0, result.output
    speakers, segments = speakers_and_segments(settings, slug)
    assert len(speakers) == 1 and {s.speaker_id for s in segments} == {speakers[0].id}
