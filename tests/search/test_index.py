"""A missing or damaged Whoosh index (archive/search/index.py): searches answer 503 "run testimony reindex",
`testimony check` says so without crashing, `testimony serve` warns at start; an empty archive is no fault."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from archive.operations.check import check_archive
from archive.search.index import index_meeting, open_backend
from archive.web.server import warn_about_the_index
from tests.factories.meetings import Line, add_meeting

pytestmark = pytest.mark.parametrize("database_url", [""])  # the index's files, not the database, are under test


@pytest.fixture
def indexed(settings, sessions):  # type: ignore[no-untyped-def]
    add_meeting(sessions, "comment", [Line("I want to feel safe driving to the grocery store.", 20.0, 26.5, "Rosa")])
    with sessions() as session:
        index_meeting(open_backend(settings), session, "comment")
    return settings


def damage(index_dir: Path) -> None:
    """Overwrite the middle of every file of the live generation's segments (a bad disk, a half-copied restore)."""
    for path in (index_dir / "current").resolve().iterdir():
        if path.suffix in (".seg", ".toc") or path.name.endswith(".trm"):
            data = bytearray(path.read_bytes())
            data[len(data) // 4 :] = b"\xff" * (len(data) - len(data) // 4)
            path.write_bytes(bytes(data))


def answers(app) -> tuple:  # type: ignore[no-untyped-def]
    client = app.test_client()
    page, api = client.get("/search?q=grocery"), client.get("/api/search?q=grocery")
    return page.status_code, page.get_data(as_text=True), api.status_code, api.get_json()


# Whoosh leaves open the file of a table of contents it could not read (once per backend and generation: the
# backend does not try a broken generation again).
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.parametrize("fault", ["damaged", "missing"])
def test_a_damaged_or_missing_index_answers_503_and_is_reported(indexed, sessions, app_for, fault: str) -> None:
    if fault == "damaged":
        damage(indexed.index_dir)
    else:
        shutil.rmtree(indexed.index_dir)
    status, html, api_status, api = answers(app_for(indexed))
    assert (status, api_status) == (503, 503)
    assert "run `testimony reindex`" in html and "run `testimony reindex`" in api["error"]
    assert str(indexed.home) not in html
    with sessions() as session:
        problems = check_archive(session, indexed)
    assert any("search index" in p and "run `testimony reindex`" in p for p in problems), problems
    told: list[str] = []
    warn_about_the_index(indexed, told.append)
    assert len(told) == 1 and told[0].startswith("warning: The search index") and "503" in told[0]


def test_an_archive_with_nothing_indexed_yet_searches_without_fault(settings, sessions, app_for) -> None:
    shutil.rmtree(settings.index_dir, ignore_errors=True)  # never made: nothing was ever indexed
    status, html, api_status, api = answers(app_for(settings))
    assert (status, api_status) == (200, 200) and api["total"] == 0
    told: list[str] = []
    warn_about_the_index(settings, told.append)
    assert told == []
