"""`testimony ingest` through the CLI: storing is idempotent, bad input leaves nothing behind."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from archive.cli.main import main
from archive.config import Settings
from archive.db.models import Meeting, Recording, Segment, TranscriptionRun
from archive.home import open_home
from tests.factories.media import FIXTURES, encode, speech

MEETING = ["--body", "Vermont Criminal Justice Council", "--title", "Regular meeting", "--date", "2024-02-07"]


def counts(settings: Settings) -> dict[str, int]:
    sessions = open_home(settings)
    with sessions() as session:
        result = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Meeting, Recording, TranscriptionRun, Segment)
        }
    sessions.kw["bind"].dispose()
    return result


def files_under(settings: Settings) -> list[Path]:
    return sorted(p for folder in ("media", "transcripts") for p in (settings.home / folder).rglob("*") if p.is_file())


def test_ingest_stores_once_by_content_and_prints_the_slug_last(runner: CliRunner, settings: Settings) -> None:
    first = runner.invoke(main, ["ingest", str(FIXTURES / "sample.wav"), *MEETING, "--no-transcribe"])
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[-1] == "2024-02-07-regular-meeting"
    assert "stored sample.wav (0:00:30, wav)" in first.stderr
    again = runner.invoke(main, ["ingest", str(FIXTURES / "sample.wav"), *MEETING, "--no-transcribe"])
    assert again.exit_code == 0
    assert "already in the archive as meeting 2024-02-07-regular-meeting; nothing new stored" in again.stderr
    assert again.stdout.splitlines()[-1] == "2024-02-07-regular-meeting"
    assert counts(settings) == {"meetings": 1, "recordings": 1, "transcription_runs": 0, "segments": 0}
    digest = hashlib.sha256((FIXTURES / "sample.wav").read_bytes()).hexdigest()
    assert files_under(settings) == [settings.home / "media" / digest[:2] / f"{digest}.wav"]
    assert runner.invoke(main, ["check"]).exit_code == 0


def test_several_files_are_one_meeting_on_one_timeline(runner: CliRunner, settings: Settings, tmp_path: Path) -> None:
    part_two = encode(speech(), tmp_path / "part-two.mp3", "mp3", "libmp3lame")
    result = runner.invoke(main, ["ingest", str(FIXTURES / "sample.wav"), str(part_two), *MEETING, "--no-transcribe"])
    assert result.exit_code == 0, result.output
    sessions = open_home(settings)
    with sessions() as session:
        meeting = session.scalars(select(Meeting)).one()
        assert [(r.original_name, r.offset, r.suffix) for r in meeting.recordings] == [
            ("sample.wav", 0.0, ".wav"),
            ("part-two.mp3", 30.0, ".mp3"),
        ]
        assert meeting.duration == pytest.approx(41.0, abs=0.1)
    sessions.kw["bind"].dispose()


BAD_FILES = {
    "empty.wav": lambda tmp: (tmp / "empty.wav").write_bytes(b""),
    "notes.wav": lambda tmp: (tmp / "notes.wav").write_text("minutes of the meeting\n" * 50),
    "noise.mp3": lambda tmp: (tmp / "noise.mp3").write_bytes(bytes(range(256)) * 300),
    "cut.mp4": lambda tmp: (tmp / "cut.mp4").write_bytes(
        encode(speech(), tmp / "whole.mp4", "mp4", "aac", video="libx264").read_bytes()[:40_000]
    ),
    "blip.wav": lambda tmp: encode(speech()[:800], tmp / "blip.wav", "wav", "pcm_s16le"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_input_is_one_line_naming_the_file_and_leaves_nothing(
    runner: CliRunner, settings: Settings, tmp_path: Path, name: str
) -> None:
    runner.invoke(main, ["init"])
    BAD_FILES[name](tmp_path)
    bad = tmp_path / name
    result = runner.invoke(main, ["ingest", str(bad), *MEETING])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"testimony: error: {bad}: ")
    assert "Traceback" not in result.output
    assert files_under(settings) == []
    assert counts(settings) == {"meetings": 0, "recordings": 0, "transcription_runs": 0, "segments": 0}
    # A good file alongside a bad one: all or nothing.
    mixed = runner.invoke(main, ["ingest", str(FIXTURES / "jfk.flac"), str(bad), *MEETING, "--no-transcribe"])
    assert mixed.exit_code == 1 and files_under(settings) == []
    # And the next ingest works.
    good = runner.invoke(main, ["ingest", str(FIXTURES / "jfk.flac"), *MEETING, "--no-transcribe"])
    assert good.exit_code == 0, good.output
    assert counts(settings)["recordings"] == 1
    assert runner.invoke(main, ["check"]).exit_code == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--date", "07/02/2024"], "--date '07/02/2024' is not a date in the form YYYY-MM-DD"),
        (["--title", "  "], "--title must not be empty"),
        (["--body", ""], "--body must not be empty"),
    ],
)
def test_bad_meeting_details_are_refused(runner: CliRunner, arguments: list[str], message: str) -> None:
    options = dict(zip(MEETING[::2], MEETING[1::2], strict=True))
    options.update(dict(zip(arguments[::2], arguments[1::2], strict=True)))
    flat = [part for pair in options.items() for part in pair]
    result = runner.invoke(main, ["ingest", str(FIXTURES / "jfk.flac"), *flat, "--no-transcribe"])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"testimony: error: {message}"


def test_a_missing_file_is_named(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["ingest", str(tmp_path / "nowhere.wav"), *MEETING, "--no-transcribe"])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"testimony: error: {tmp_path / 'nowhere.wav'}: no such file"


def test_commands_on_a_home_without_an_archive_say_what_to_do(tmp_path: Path) -> None:
    result = CliRunner(env={"TESTIMONY_HOME": str(tmp_path), "TESTIMONY_DATABASE_URL": ""}).invoke(main, ["check"])
    assert result.exit_code == 1
    assert "run `testimony init` there first" in result.stderr


@pytest.mark.parametrize("database_url", [""])
def test_a_recording_over_the_duration_limit_is_refused_in_one_line(settings: Settings) -> None:
    """The held-out check as it is run: the real command, a 2 h 10 min silent FLAC, TESTIMONY_MAX_DURATION=2h."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, TESTIMONY_HOME=str(settings.home), TESTIMONY_MAX_DURATION="2h")
    done = subprocess.run(
        [sys.executable, "-m", "archive.cli.main", "ingest", str(FIXTURES / "long" / "silence-2h10m.flac"), *MEETING],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"testimony: error: {FIXTURES / 'long' / 'silence-2h10m.flac'}: the recording is 2 h 10 min long;"
        " this archive takes at most 2 h (TESTIMONY_MAX_DURATION)"
    ]
    assert [p for p in (settings.home / "media").rglob("*")] == []
    sessions = open_home(settings)
    with sessions() as session:
        assert session.scalar(select(func.count(Recording.id))) == 0
    sessions.kw["bind"].dispose()
