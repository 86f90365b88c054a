"""--glossary on ingest and transcribe: the terms guide the model, the run records them, the file is keyed by them."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive.cli.context import glossary_for, guided_settings
from archive.cli.main import main
from archive.config import Settings
from archive.db.models import TranscriptionRun
from archive.home import open_home
from archive.media.decode import SAMPLE_RATE, decode_audio
from archive.media.store import sha256_of
from archive.transcribe.evaluate import terms_right, word_error_rate
from archive.transcribe.glossary import Glossary, read_glossary
from tests.factories.media import FIXTURES
from tests.fixtures.synth.mix import write_wav

MEETING = ["--body", "Test Council", "--title", "Inaugural", "--date", "1961-01-20"]
ENGINE = ["--engine", "faster-whisper", "--model", "tiny.en"]
GLOSSARY_FIXTURES = FIXTURES / "glossary"


@pytest.fixture
def database_url() -> str:
    return ""  # SQLite alone: what is tested here does not depend on the database


def runs(settings: Settings) -> list[TranscriptionRun]:
    sessions = open_home(settings)
    with sessions() as session:
        found = list(session.scalars(select(TranscriptionRun)))
    sessions.kw["bind"].dispose()
    return found


@pytest.mark.slow
def test_a_glossary_guides_the_run_is_recorded_and_keys_the_transcript(
    runner: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    glossary = tmp_path / "terms.txt"
    glossary.write_text("# the body's terms\nAmericans\n\nfellow Americans\nAmericans\n", encoding="utf-8")
    result = runner.invoke(
        main, ["ingest", str(FIXTURES / "jfk.flac"), *MEETING, "--no-diarize", *ENGINE, "--glossary", str(glossary)]
    )
    assert result.exit_code == 0, result.output
    slug = result.stdout.splitlines()[-1]
    expected = Glossary(("Americans", "fellow Americans"))
    name = f"{sha256_of(FIXTURES / 'jfk.flac')}.faster-whisper.tiny.en.g{expected.sha256[:16]}.json"
    machine = json.loads((settings.transcripts_dir / name).read_text())
    assert machine["guidance"]["text"] == "Americans, fellow Americans."
    assert machine["guidance"]["windows"] == [
        {"start": 0.0, "prompts": {"en": "Americans, fellow Americans."}, "hotwords": ""}
    ]
    (run,) = runs(settings)
    assert run.transcript_file == name and run.parameters["guidance"]["terms"] == ["Americans", "fellow Americans"]
    assert run.parameters["checks"] == []

    again = runner.invoke(main, ["transcribe", slug, *ENGINE, "--glossary", str(glossary)])
    assert again.exit_code == 0 and f"reusing the machine transcript {name}" in again.output

    plain = runner.invoke(main, ["transcribe", slug, *ENGINE])
    assert plain.exit_code == 0, plain.output
    (run,) = runs(settings)  # the same engine and model: one run, saying how its segments were made now
    assert run.transcript_file == name.replace(f".g{expected.sha256[:16]}", "") and "guidance" not in run.parameters
    assert runner.invoke(main, ["check"]).exit_code == 0


def test_a_bad_glossary_is_one_line_naming_the_file_and_stores_nothing(
    runner: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.txt"
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n", encoding="utf-8")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Montréal\n".encode("latin-1"))
    for path, why in ((missing, "no such file"), (empty, "no terms"), (latin, "not UTF-8 text")):
        result = runner.invoke(main, ["ingest", str(FIXTURES / "jfk.flac"), *MEETING, "--glossary", str(path)])
        assert result.exit_code == 1
        assert result.stderr.strip() == f"testimony: error: glossary {path}: {why}" + (
            " (one term a line)" if why == "no terms" else ""
        )
    queued = runner.invoke(
        main, ["ingest", str(FIXTURES / "jfk.flac"), *MEETING, "--background", "--glossary", str(empty)]
    )
    assert queued.exit_code == 1 and "a background job takes the body's vocabulary" in queued.stderr
    assert not list(settings.media_dir.rglob("*.flac"))


def test_a_guided_run_uses_the_guided_model_unless_a_model_is_named(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TESTIMONY_MODEL", raising=False)
    ctx = click.Context(main, obj={"home": home})
    guided = Glossary(("Addison County",))
    assert guided_settings(ctx, {"model": None}, guided).model == "base"
    assert guided_settings(ctx, {"model": None}, None).model == "tiny.en"  # unguided: the usual default
    assert guided_settings(ctx, {"model": "tiny.en"}, guided).model == "tiny.en"
    monkeypatch.setenv("TESTIMONY_MODEL", "tiny.en")
    assert guided_settings(ctx, {"model": None}, guided).model == "tiny.en"


def test_a_glossary_file_or_else_the_bodys_vocabulary(runner: CliRunner, settings: Settings, tmp_path: Path) -> None:
    glossary = tmp_path / "terms.txt"
    glossary.write_text("Vergennes\n", encoding="utf-8")
    ctx = click.Context(main, obj={"home": settings.home})
    from_file = glossary_for(ctx, settings, glossary, body="Board")
    assert from_file == Glossary(("Vergennes",), "prompt", {"Vergennes": "glossary file"})
    assert glossary_for(ctx, settings, None, body="Board") is None  # a body without a list: unguided
    assert runner.invoke(main, ["vocabulary", "Board"]).exit_code == 1  # no such body yet


@pytest.mark.slow
def test_a_guided_ingest_uses_base_and_gets_the_boards_names_right(
    runner: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    """The meeting's chair and senator (its first 35 s) ingested with the board's glossary and no model named."""
    _, audio = decode_audio(GLOSSARY_FIXTURES / "glossary-meeting.ogg")
    clip = tmp_path / "board-opening.wav"
    write_wav(clip, [audio[: int(35.3 * SAMPLE_RATE)]])
    terms = read_glossary(GLOSSARY_FIXTURES / "glossary.txt")
    board = [
        "--body",
        "Addison County Public Safety Advisory Board",
        "--title",
        "Public comment",
        "--date",
        "2024-03-05",
    ]
    glossary = GLOSSARY_FIXTURES / "glossary.txt"
    result = runner.invoke(
        main, ["ingest", str(clip), *board, "--no-diarize", "--engine", "faster-whisper", "--glossary", str(glossary)]
    )
    assert result.exit_code == 0, result.output
    (run,) = runs(settings)
    assert run.model == "base" and run.parameters["guidance"]["terms"] == terms
    transcript = json.loads((settings.transcripts_dir / run.transcript_file).read_text())
    text = " ".join(s["text"] for s in transcript["segments"])
    reference = " ".join(
        t["text"] for t in json.loads((GLOSSARY_FIXTURES / "glossary-meeting.json").read_text())["turns"][:2]
    )
    right, said = terms_right(terms, reference, text)
    assert said == 7 and right >= 6, text  # Addison County ×2, Denise Bouchard, Ruth Hardy, Middlebury ×2, Vergennes
    assert word_error_rate(reference, text) <= 0.12, text
