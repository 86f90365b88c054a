"""`testimony vocabulary BODY`: add, remove and list a body's terms from the command line (SQLite)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive.cli.main import main
from archive.db.models import AuditEvent
from tests.factories.meetings import Line, add_meeting


@pytest.fixture
def database_url() -> str:
    return ""  # the table is tested on both databases in tests/curation/test_vocabulary.py


def test_add_list_and_remove(runner: CliRunner, sessions) -> None:  # type: ignore[no-untyped-def]
    add_meeting(sessions, "2024-02-07-board", [Line("Welcome.", 0.0, 1.0, "Denise Bouchard", "Chair")], body="Board")
    listed = runner.invoke(main, ["vocabulary", "Board"])
    assert listed.exit_code == 0 and "board: no terms of its own (unguided)" in listed.stdout

    added = runner.invoke(main, ["vocabulary", "board", "--add", "Vergennes | a city", "--add", "Swanton", "--list"])
    assert added.exit_code == 0, added.output
    assert added.stderr == "board: added 2 term(s)\n"
    assert added.stdout.splitlines() == [
        "Vergennes | a city",
        "Swanton",
        "# prompt (4 terms): Vergennes, Swanton, Denise Bouchard, Chair.",
    ]
    removed = runner.invoke(main, ["vocabulary", "Board", "--remove", "swanton", "--remove", "Nowhere", "--list"])
    assert removed.stderr == "board: removed 1 term(s); 1 not found\n"
    assert removed.stdout.splitlines()[0] == "Vergennes | a city"
    with sessions() as session:
        assert session.scalars(select(AuditEvent.actor).where(AuditEvent.action.like("vocabulary-%"))).all() == [
            "cli",
            "cli",
        ]

    unknown = runner.invoke(main, ["vocabulary", "Nobody", "--add", "x"])
    assert unknown.exit_code == 1 and unknown.stderr == "testimony: error: no body 'Nobody' (bodies: board)\n"
