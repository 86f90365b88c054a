"""A small archive of meetings for search tests, on every backend × database combination."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories.search import BACKENDS, build_archive, close_archive, settings_for


@pytest.fixture(params=BACKENDS)
def archive(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    built = build_archive(settings_for(request, tmp_path, request.param))
    yield built
    close_archive(built)


@pytest.fixture(params=["whoosh-sqlite", "whoosh-postgresql"])
def whoosh_archive(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    built = build_archive(settings_for(request, tmp_path, request.param))
    yield built
    close_archive(built)
