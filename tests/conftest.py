"""Shared fixtures: a temporary archive home on SQLite and on the real PostgreSQL server, a CLI runner."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from archive.config import Settings

FIXTURES = Path(__file__).parent / "fixtures"
# The local server (trust auth). Each test run gets its own database, each test its own schema.
POSTGRES_URL = os.environ.get("TESTIMONY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database for this test run, dropped at the end; PostgreSQL must be running (no silent skip)."""
    url = make_url(POSTGRES_URL)
    name = f"testimony_test_{uuid.uuid4().hex[:10]}"
    admin = _libpq(url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _libpq(url) -> str:  # type: ignore[no-untyped-def]
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every database test runs twice: on an SQLite file and on PostgreSQL (a fresh schema per test)."""
    if request.param == "sqlite":
        return ""  # the home's archive.db
    return fresh_postgres_schema(request)


def fresh_postgres_schema(request: pytest.FixtureRequest) -> str:
    """A URL whose search_path is a new, empty schema in this run's database."""
    base = make_url(request.getfixturevalue("postgres_database"))
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(base), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    return base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def settings(home: Path, database_url: str) -> Settings:
    return Settings(home=home, database_url=database_url, threads=1)


@pytest.fixture
def sessions(settings: Settings):  # type: ignore[no-untyped-def]
    from archive.home import init_home

    sessions = init_home(settings)
    yield sessions
    sessions.kw["bind"].dispose()


@pytest.fixture
def runner(settings: Settings) -> CliRunner:
    """Runs `testimony` against the test's home and database."""
    env = {
        "TESTIMONY_HOME": str(settings.home),
        "TESTIMONY_DATABASE_URL": settings.database_url,
        "TESTIMONY_THREADS": "1",
    }
    return CliRunner(env=env)


@pytest.fixture
def app_for():  # type: ignore[no-untyped-def]
    """Makes Flask apps for given settings and closes their database pools after the test."""
    from archive import create_app

    apps = []

    def make(settings: Settings):  # type: ignore[no-untyped-def]
        app = create_app(settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["sessions"].kw["bind"].dispose()
