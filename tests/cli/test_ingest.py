"""Ingest end to end with the real default engine: transcript file, run, segments, reuse, silence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive.cli.main import main
from archive.config import Settings
from archive.db.models import Segment, TranscriptionRun
from archive.home import open_home
from archive.media.store import sha256_of
from tests.factories.media import FIXTURES, encode

MEETING = ["--body", "Test Council", "--title", "Inaugural", "--date", "1961-01-20"]
pytestmark = pytest.mark.slow


def rows(settings: Settings) -> tuple[list[TranscriptionRun], list[Segment]]:
    sessions = open_home(settings)
    with sessions() as session:
        result = list(session.scalars(select(TranscriptionRun))), list(session.scalars(select(Segment)))
    sessions.kw["bind"].dispose()
    return result


def test_ingest_transcribes_once_and_reuses_the_machine_transcript(runner: CliRunner, settings: Settings) -> None:
    result = runner.invoke(main, ["ingest", str(FIXTURES / "jfk.flac"), *MEETING])
    assert result.exit_code == 0, result.output
    slug = result.stdout.splitlines()[-1]
    digest = sha256_of(FIXTURES / "jfk.flac")
    transcript_file = settings.home / "transcripts" / f"{digest}.whisper.tiny.en.json"
    machine = json.loads(transcript_file.read_text())
    assert machine["engine"] == "whisper" and machine["segments"]
    runs, segments = rows(settings)
    assert len(runs) == 1 and runs[0].transcript_sha256 == sha256_of(transcript_file)
    assert " ".join(s.text for s in segments).startswith("And so, my fellow Americans ask not")
    assert all(s.words and s.language == "en" for s in segments)

    before = transcript_file.stat().st_mtime_ns
    again = runner.invoke(main, ["ingest", str(FIXTURES / "jfk.flac"), *MEETING])
    assert again.exit_code == 0
    assert "already transcribed with whisper tiny.en" in again.stderr
    retranscribe = runner.invoke(main, ["transcribe", slug])
    assert retranscribe.exit_code == 0, retranscribe.output
    assert "reusing the machine transcript" in retranscribe.stderr
    assert transcript_file.stat().st_mtime_ns == before
    assert [s.text for s in rows(settings)[1]] == [s.text for s in segments]
    assert runner.invoke(main, ["check"]).exit_code == 0


def test_a_second_engine_adds_a_run_and_keeps_the_first_file(runner: CliRunner, settings: Settings) -> None:
    slug = runner.invoke(main, ["ingest", str(FIXTURES / "jfk.flac"), *MEETING]).stdout.splitlines()[-1]
    result = runner.invoke(main, ["transcribe", slug, "--engine", "faster-whisper"])
    assert result.exit_code == 0, result.output
    runs, segments = rows(settings)
    assert sorted(r.engine for r in runs) == ["faster-whisper", "whisper"]
    assert {s.run_id for s in segments} == {next(r.id for r in runs if r.engine == "faster-whisper")}
    assert len(list((settings.home / "transcripts").glob("*.json"))) == 2


def test_a_minute_of_silence_is_an_empty_transcript_not_an_error(
    runner: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    silence = encode(np.zeros(16_000 * 60, np.float32), tmp_path / "silence.wav", "wav", "pcm_s16le")
    result = runner.invoke(main, ["ingest", str(silence), *MEETING])
    assert result.exit_code == 0, result.output
    runs, segments = rows(settings)
    assert len(runs) == 1 and segments == []


def test_an_unavailable_model_is_one_line_and_stores_nothing(runner: CliRunner, settings: Settings) -> None:
    result = runner.invoke(main, ["ingest", str(FIXTURES / "jfk.flac"), *MEETING, "--model", "large-v3"])
    assert result.exit_code == 1
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("testimony: error: ") and "large-v3" in error
    assert not any(p.is_file() for p in (settings.home / "media").rglob("*"))
