"""The issue's held-out checks, end to end on our Spanish fixtures with the real models (one database: SQLite).

`testimony ingest FILE --engine faster-whisper --languages en,es` with no --body/--title/--date, then `testimony
export SLUG --format json` (segments with language, text, start, end) and `testimony search WORD --json`; the bars
are the issue's (tests/fixtures/spanish). And the way there from an English-only archive: tiny.en on Spanish
testimony writes nothing, which ingest, the JSON and `testimony check` report as untranscribed speech, and a
re-transcription with --languages en,es is a new run, not the English one reused.

The multilingual model's transcripts of the two recordings are the session's (tests/conftest.py, checked against
the same bars in tests/transcribe/test_multilingual.py): each test puts its recording's where `testimony` keeps
machine transcripts, under the name a run of faster-whisper base for English and Spanish gets, and the commands
must find it by that name. What tiny.en hears is transcribed here, through the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from archive.cli.main import main
from archive.config import Settings
from archive.media.store import sha256_of
from archive.transcribe.evaluate import turn_scores, word_error_rate
from archive.transcribe.transcript import Transcript, transcript_filename
from tests.factories.media import FIXTURES

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
SPANISH = FIXTURES / "spanish"


def truth(name: str) -> list[dict]:  # type: ignore[type-arg]
    return json.loads((SPANISH / f"{name}.json").read_text(encoding="utf-8"))["turns"]


def run(runner: CliRunner, *arguments: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(main, list(arguments))
    assert result.exit_code == 0, result.output
    return result


def exported(runner: CliRunner, slug: str) -> dict:  # type: ignore[type-arg]
    return json.loads(run(runner, "export", slug, "--format", "json").stdout)


def made_by_the_multilingual_model(settings: Settings, recording: Path, transcript: Transcript) -> str:
    """Keep the session's transcript of the recording as a run of base for en,es would; its file name."""
    name = transcript_filename(sha256_of(recording), "faster-whisper", "base", ("en", "es"))
    settings.transcripts_dir.mkdir(parents=True, exist_ok=True)
    (settings.transcripts_dir / name).write_text(transcript.to_json(), encoding="utf-8")
    return name


def test_english_only_reports_the_spanish_then_languages_transcribe_it(
    runner: CliRunner, settings: Settings, spanish_testimony: Transcript
) -> None:
    recording = SPANISH / "testimony-es.ogg"
    ingest = run(runner, "ingest", str(recording), "--no-diarize", "--engine", "faster-whisper")
    slug = ingest.stdout.splitlines()[-1]
    assert slug.endswith("-testimony-es")  # the title from the file name, the date today (no creation time)
    assert "chose body 'Unnamed body' (TESTIMONY_DEFAULT_BODY" in ingest.stderr
    assert "1 stretch of speech not transcribed" in ingest.stderr  # the summary line
    document = exported(runner, slug)
    assert document["segments"] == [] and document["languages"] == []
    (gap,) = document["gaps"]
    assert gap["language"] == "es" and gap["end"] - gap["start"] > 50
    assert gap["reason"] == "speech not transcribed — Spanish? re-run with --languages en,es"
    check = run(runner, "check")
    assert f"speech not transcribed: {slug} 0:00:00–0:00:59: speech not transcribed — Spanish?" in check.stdout

    multilingual = made_by_the_multilingual_model(settings, recording, spanish_testimony)
    again = run(runner, "transcribe", slug, "--engine", "faster-whisper", "--languages", "en,es")
    # A new run, base for en,es, not tiny.en's English one reused (the key's languages: tests/ingest/test_languages.py)
    assert [line for line in again.stderr.splitlines() if "reusing" in line] == [
        f"testimony-es.ogg: reusing the machine transcript {multilingual}"
    ]
    document = exported(runner, slug)
    assert document["gaps"] == [] and document["languages"] == ["es"]
    assert {s["language"] for s in document["segments"]} == {"es"}
    heard = " ".join(s["text"] for s in document["segments"])
    wer = word_error_rate(truth("testimony-es")[0]["text"], heard, "es")
    print(f"Spanish testimony WER, faster-whisper base through the CLI: {wer:.3f}")
    assert wer <= 0.22
    assert "speech not transcribed" not in run(runner, "check").stdout
    found = json.loads(run(runner, "search", "trabajar", "--json").stdout)
    assert found["total"] >= 2 and {hit["language"] for hit in found["results"]} == {"es"}


def test_the_held_out_commands_on_an_interpreted_meeting(
    runner: CliRunner, settings: Settings, interpreted_meeting: Transcript
) -> None:
    recording = SPANISH / "interpreted-meeting.ogg"
    multilingual = made_by_the_multilingual_model(settings, recording, interpreted_meeting)
    ingest = run(runner, "ingest", str(recording), "--engine", "faster-whisper", "--languages", "en,es")
    assert f"reusing the machine transcript {multilingual}" in ingest.stderr
    slug = ingest.stdout.splitlines()[-1]
    document = exported(runner, slug)
    assert document["languages"] == ["en", "es"] and document["gaps"] == []
    segments = [
        SimpleNamespace(**{k: s[k] for k in ("language", "text", "start", "end")}) for s in document["segments"]
    ]
    scores = turn_scores(truth("interpreted-meeting"), segments)
    print(scores)
    assert scores.turns_right >= 7  # of 8 (the bar: 5 of 6)
    assert scores.wer["es"] <= 0.30
    assert scores.wer["en"] <= 0.12
    found = json.loads(run(runner, "search", "policia", "--json").stdout)  # "policía", typed without its accent
    assert [hit["language"] for hit in found["results"]] == ["es"]
    assert "<mark>policía</mark>" in found["results"][0]["highlight"]
    english = json.loads(run(runner, "search", "police", "--json").stdout)
    assert [hit["language"] for hit in english["results"]] == ["en"]
    # The interpreter's turns right after the testifier's are suggested to curators as her interpretation.
    assert "look like an interpretation of the turn before" in ingest.stderr
