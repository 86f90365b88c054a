"""Settings: read from TESTIMONY_* variables, validated and masked (tests/test_docs.py checks each is documented)."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.config import Settings
from archive.errors import InvalidInput
from archive.timecodes import format_clock, parse_clock


def test_environment_then_overrides() -> None:
    settings = Settings.from_env(
        {"TESTIMONY_ENGINE": "faster-whisper", "TESTIMONY_THREADS": "2", "TESTIMONY_HOME": "/srv/archive"},
        threads=None,
        model="base.en",
    )
    assert (settings.engine, settings.threads, settings.model, settings.home) == (
        "faster-whisper",
        2,
        "base.en",
        Path("/srv/archive"),
    )
    assert settings.sqlalchemy_url == "sqlite:////srv/archive/archive.db"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"TESTIMONY_ENGINE": "vosk"}, "engine 'vosk' is not one of: whisper, faster-whisper"),
        ({"TESTIMONY_THREADS": "two"}, "TESTIMONY_THREADS must be a whole number, not 'two'"),
        ({"TESTIMONY_THREADS": "0"}, "threads must be at least 1, not 0"),
        ({"TESTIMONY_INDEX_PROCESSES": "0"}, "index_processes must be at least 1, not 0"),
        ({"TESTIMONY_SEARCH_WINDOW": "0"}, "search_window must be at least 1, not 0"),
        ({"TESTIMONY_WARM_SECONDS": "-1"}, "warm_seconds must be 0 or more, not -1"),
        ({"TESTIMONY_WARM_SECONDS": "soon"}, "TESTIMONY_WARM_SECONDS must be a whole number, not 'soon'"),
    ],
)
def test_bad_values_are_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Settings.from_env(environ)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TESTIMONY_REPORT_URL", "javascript:alert(1)"),
        ("TESTIMONY_REPORT_URL", "example.org/issues"),
        ("TESTIMONY_REPORT_URL", 'https://example.org/" onclick="x'),
        ("TESTIMONY_REPORT_EMAIL", "errors@example.org?bcc=everyone@example.org"),
        ("TESTIMONY_REPORT_EMAIL", "a@example.org, b@example.org"),
        ("TESTIMONY_REPORT_EMAIL", "errors"),
    ],
)
def test_report_addresses_must_be_safe_links(variable: str, value: str) -> None:
    with pytest.raises(InvalidInput) as error:
        Settings.from_env({variable: value})
    assert str(error.value).startswith(f"{variable} must be ") and repr(value) in str(error.value)


def test_report_addresses() -> None:
    settings = Settings.from_env(
        {"TESTIMONY_REPORT_URL": "https://example.org/issues/new?label=transcript", "TESTIMONY_REPORT_EMAIL": "a@b.org"}
    )
    assert (settings.report_url, settings.report_email) == (
        "https://example.org/issues/new?label=transcript",
        "a@b.org",
    )


def test_secrets_are_masked() -> None:
    settings = Settings(database_url="postgresql+psycopg://archive:hunter2@db.example/archive")
    shown = dict((name, value) for name, value, _ in settings.describe())
    assert shown["TESTIMONY_DATABASE_URL"] == "postgresql+psycopg://archive:***@db.example/archive"


def test_timecodes() -> None:
    assert format_clock(3733.9) == "1:02:13"
    assert [parse_clock(t) for t in ("1:02:13", "62:13", "3733", "3733.5", "0:07")] == [3733, 3733, 3733, 3733.5, 7]
    for bad in ("", "1:2:3:4", "-5", "inf", "nan", "ten"):
        with pytest.raises(InvalidInput):
            parse_clock(bad)
