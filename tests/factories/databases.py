"""The test databases: the local PostgreSQL server (trust auth), a fresh schema in this run's database per test;
which tests run on both SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL, make_url

# Each test run gets its own database, each test its own schema.
POSTGRES_URL = os.environ.get("TESTIMONY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def libpq(url: URL) -> str:
    """The URL as psycopg takes it."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def fresh_postgres_schema(request: pytest.FixtureRequest) -> str:
    """A URL whose search_path is a new, empty schema in this run's database."""
    base = make_url(request.getfixturevalue("postgres_database"))
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq(base), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    return base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


# --- which databases a test runs on ---------------------------------------------------------------------------
#
# A test that uses the database (the `database_url` fixture, or `settings`, `sessions`, `app`, `client`, `runner`…
# built on it) runs on SQLite. It runs on PostgreSQL too where the dialect matters: every test under the folders
# below (the schema and its types, search, privacy, the jobs and their worker, mail), and any test, class or module
# marked `@pytest.mark.both_databases` (SQL specifics elsewhere: concurrent writers, time zones, a dialect's own
# branch, SQL's lower()). `pytest --both-databases` runs every database test on both, as the suite once did.
DATABASES = ("sqlite", "postgresql")
BOTH_DATABASE_FOLDERS = ("db", "search", "privacy", "worker", "mail")
TESTS = Path(__file__).resolve().parents[1]


def on_both_databases(item: pytest.Item) -> bool:
    """Whether a test (or a test function's definition) runs on PostgreSQL as well as SQLite."""
    folder = item.path.relative_to(TESTS).parts[0] if item.path.is_relative_to(TESTS) else ""
    return folder in BOTH_DATABASE_FOLDERS or item.get_closest_marker("both_databases") is not None


def databases_for(metafunc: pytest.Metafunc) -> tuple[str, ...]:
    """The databases a test is parametrised over (`database_url` in tests/conftest.py, or a module's own)."""
    if metafunc.config.getoption("both_databases") or on_both_databases(metafunc.definition):
        return DATABASES
    return DATABASES[:1]
