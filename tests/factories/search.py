"""A small archive indexed with each search backend, for the search tests (tests/search/conftest.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archive.config import Settings
from archive.home import init_home
from archive.search.index import index_meeting, open_backend
from archive.search.sync import backend_of
from tests.factories.databases import migrated_postgres_schema
from tests.factories.meetings import Line, add_meeting, update_person

XSS_NAME = "<img src=x onerror=alert(1)>"


ANONYMOUS_NAME = "Maria Quintanilla"  # must never be findable, nor be in the index or the API


# What people agreed to, set after their meetings are added.
PEOPLE = {ANONYMOUS_NAME: {"consent": "anonymous", "affiliation": "Migrant Justice"}}


MEETINGS = {
    "2024-02-07-public-comment": dict(
        title="Public comment on the Fair and Impartial Policing Policy",
        date=dt.date(2024, 2, 7),
        lines=[
            Line(
                "We now open public comment on the Fair and Impartial Policing Policy.",
                10.0,
                16.0,
                "Chair Anne",
                "chair",
                "procedural",
            ),
            Line(
                "I want to feel safe driving to the grocery store with my children.",
                20.0,
                26.5,
                "Rosa",
                "public commenter",
                "testimony",
            ),
            Line(
                "José said the Border Patrol stopped him near the café.",
                30.0,
                35.0,
                "Rosa",
                "public commenter",
                "testimony",
            ),
            Line("<script>alert(1)</script> Border Patrol & police", 40.0, 45.0, XSS_NAME, "member", "deliberation"),
            # Anonymous (see PEOPLE): indexed and shown by role only.
            Line(
                "I harvest apples every autumn in Franklin County.",
                50.0,
                55.0,
                ANONYMOUS_NAME,
                "farmworker",
                "testimony",
            ),
            Line(
                "You're here illegally and you're worried about being safe?",
                3721.4,
                3726.0,
                "Deputy Dan",
                "member",
                "remark",
                ["hot-mic"],
            ),
            Line(
                "The vote is postponed and the policy goes back to committee.",
                3800.0,
                3806.0,
                "Chair Anne",
                "chair",
                "procedural",
            ),
            # A voice nobody has identified yet: a label, no person.
            Line("The minutes are approved as written.", 3810.0, 3812.0, "voice", label_only=True),
        ],
    ),
    "2023-05-10-regular-meeting": dict(
        title="Regular meeting",
        date=dt.date(2023, 5, 10),
        lines=[
            Line(
                "Border Patrol agents were present at the checkpoint on Route 2.",
                61.0,
                66.0,
                "Deputy Dan",
                "member",
                "deliberation",
            ),
            Line("Public comment is closed.", 70.0, 72.0, "Chair Anne", "chair", "procedural"),
        ],
    ),
    "2022-11-01-annual-meeting": dict(
        title="Annual meeting",
        date=dt.date(2022, 11, 1),
        lines=[Line("The council adjourned at nine in the evening.", 5.0, 8.0, None, None, None)],
    ),
}


BACKENDS = ["whoosh-sqlite", "whoosh-postgresql", "postgres"]


def settings_for(request: pytest.FixtureRequest, tmp_path: Path, combination: str) -> Settings:
    backend, _, database = combination.partition("-")
    url = "" if database == "sqlite" else migrated_postgres_schema(request)
    home = tmp_path / "home"
    home.mkdir()
    return Settings(home=home, database_url=url, search_backend=backend, threads=1)


def build_archive(settings: Settings):  # type: ignore[no-untyped-def]
    """(settings, sessions, backend) with the MEETINGS indexed; the caller disposes the engine."""
    sessions = init_home(settings)
    backend = open_backend(settings)
    for slug, meeting in MEETINGS.items():
        add_meeting(sessions, slug, meeting["lines"], title=meeting["title"], date=meeting["date"])
        for name, values in PEOPLE.items():
            if any(line.speaker == name for line in meeting["lines"]):
                update_person(sessions, name, **values)
        with sessions() as session:
            index_meeting(backend, session, slug)
    return settings, sessions, backend


def close_archive(built) -> None:  # type: ignore[no-untyped-def]
    _, sessions, backend = built
    sessions.kw["bind"].dispose()
    for each in (backend, backend_of(sessions)):  # the sessions' own backend, too: PostgreSQL's has a pool
        getattr(each, "close", lambda: None)()
