"""Shared fixtures: a temporary archive home on SQLite and on the real PostgreSQL server, a CLI runner."""

from __future__ import annotations

import dataclasses
import functools
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from archive.config import Settings
from archive.transcribe.transcript import Transcript
from tests.factories.databases import (
    POSTGRES_URL,
    MigratedSchemas,
    databases_for,
    fresh_postgres_schema,
    libpq,
    migrated_postgres_schema,
    on_both_databases,
)
from tests.factories.mail import ARCHIVE_ADDRESS
from tests.factories.mail_server import MailServer, make_certificate
from tests.factories.media import FIXTURES, speech
from tests.factories.speakers import set_voice
from tests.scheduling import LongestFirst

# Argon2id at the library's recommended cost (archive.accounts.users.hasher: 3 passes over 64 MiB) takes ~0.2 s of
# CPU to hash and as much to check, 0.4 s for each user a test signs in. Tests hash with argon2id at a low cost
# instead (1 pass over 1 MiB: the same code, the same kind of hash, checked for real); a test about the cost itself
# is marked real_password_cost and keeps the site's hasher.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def password_cost(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from archive.accounts import users

    if request.node.get_closest_marker("real_password_cost") is None:
        monkeypatch.setattr(users, "hasher", CHEAP_HASHER)
    users._dummy_hash.cache_clear()  # made by whichever hasher was in place when it was first needed
    yield
    users._dummy_hash.cache_clear()


@pytest.fixture(scope="session")
def postgres_database(worker_id: str) -> Iterator[str]:
    """A database for this test run and worker (pytest-xdist: gw0, gw1…; "master" without it), dropped at the
    end; PostgreSQL must be running (no silent skip)."""
    url = make_url(POSTGRES_URL)
    name = f"testimony_test_{uuid.uuid4().hex[:10]}_{worker_id}"
    admin = libpq(url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # type: ignore[no-untyped-def]
    """`--dist loadscope` (make test) hands out the long modules first (tests/scheduling.py)."""
    return LongestFirst(config, log) if config.getvalue("dist") == "loadscope" else None


# --- which databases a test runs on (tests/factories/databases.py: databases_for) ----------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--both-databases",
        action="store_true",
        help="run every database test on SQLite and on PostgreSQL (by default: only where the dialect matters)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" not in metafunc.fixturenames:
        return
    if any("database_url" in str(mark.args[0]) for mark in metafunc.definition.iter_markers("parametrize")):
        return  # the test names its database itself
    metafunc.parametrize("database_url", databases_for(metafunc), indirect=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The folders' tests carry the marker too, so that `-m both_databases` selects every two-database test."""
    for item in items:
        if on_both_databases(item) and item.get_closest_marker("both_databases") is None:
            item.add_marker(pytest.mark.both_databases)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """The test's database (parametrised above): "" for the home's SQLite file, or a PostgreSQL URL whose
    search_path is the worker's migrated schema, emptied after the test (for a test that asks for `sessions`),
    or else a fresh, empty schema of its own."""
    if request.param == "sqlite":
        return ""  # the home's archive.db
    if "sessions" in request.fixturenames:
        return migrated_postgres_schema(request)
    return fresh_postgres_schema(request)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def settings(home: Path, database_url: str) -> Settings:
    return Settings(home=home, database_url=database_url, threads=1)


@pytest.fixture
def sessions(request: pytest.FixtureRequest, settings: Settings):  # type: ignore[no-untyped-def]
    """The home's sessions, its schema made by the migrations (once per run, then copied: see below)."""
    from archive.home import init_home

    if settings.database_url:
        if not request.getfixturevalue("postgres_schemas").lends(settings.database_url):
            load_postgres_template(settings.database_url, request.getfixturevalue("postgres_template"))
    else:
        shutil.copyfile(request.getfixturevalue("sqlite_template"), settings.home / "archive.db")
    sessions = init_home(settings)  # the schema is at the head already: this checks it and makes the folders
    yield sessions
    sessions.kw["bind"].dispose()


# Running the migrations takes ~0.15 s on SQLite and ~0.35 s on PostgreSQL; a thousand database tests would spend
# minutes on it. So the migrations run once per test run into a template, which each test copies: the SQLite
# file, or the PostgreSQL schema's DDL (pg_dump) replayed into the test's own schema. tests/db/ still runs the
# migrations themselves on empty databases.
TEMPLATE_SCHEMA = "migrated_template_schema"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from archive.home import init_home

    home = tmp_path_factory.mktemp("sqlite-template")
    sessions = init_home(Settings(home=home))
    with sessions() as session:
        session.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    sessions.kw["bind"].dispose()
    return home / "archive.db"


@pytest.fixture(scope="session")
def postgres_template(postgres_database: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The migrated schema's DDL and Alembic version, with the schema's name as TEMPLATE_SCHEMA."""
    from archive.home import init_home

    base = make_url(postgres_database)
    with psycopg.connect(libpq(base), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{TEMPLATE_SCHEMA}"')
    url = base.update_query_dict({"options": f"-csearch_path={TEMPLATE_SCHEMA}"}).render_as_string(hide_password=False)
    sessions = init_home(Settings(home=tmp_path_factory.mktemp("postgres-template"), database_url=url))
    with sessions() as session:
        version = session.connection().exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    sessions.kw["bind"].dispose()
    dump = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", f"--schema={TEMPLATE_SCHEMA}", libpq(base)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # Statements only (no psql meta-commands), without the CREATE SCHEMA (each test made its own).
    lines = [line for line in dump.splitlines() if not line.startswith("\\")]
    ddl = "\n".join(lines).replace(f"CREATE SCHEMA {TEMPLATE_SCHEMA};", "")
    return ddl + f"\nINSERT INTO {TEMPLATE_SCHEMA}.alembic_version (version_num) VALUES ('{version}');\n"


@pytest.fixture(scope="session")
def postgres_schemas(postgres_database: str, postgres_template: str) -> MigratedSchemas:
    """The worker's migrated schema, lent to one test at a time (tests/factories/databases.py)."""
    return MigratedSchemas(
        make_url(postgres_database),
        lambda schema: postgres_template.replace(f"{TEMPLATE_SCHEMA}.", f'"{schema}".'),
    )


def load_postgres_template(url: str, template: str) -> None:
    """Replay the template's DDL into the schema named in the URL's search_path."""
    options = make_url(url).query["options"]
    schema = str(options).split("search_path=", 1)[1]
    with psycopg.connect(libpq(make_url(url).difference_update_query(["options"])), autocommit=True) as connection:
        connection.execute(template.replace(f"{TEMPLATE_SCHEMA}.", f'"{schema}".').encode("utf-8"))


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


@pytest.fixture
def app(settings, sessions, app_for):  # type: ignore[no-untyped-def]
    """The site for the test's home and database (the database made first by `sessions`)."""
    return app_for(settings)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    """A visitor to the site, without a session."""
    return app.test_client()


# --- a synthetic fixture and voices and mail, for the tests of several packages (speakers, ingest, cli, mail, web)


@pytest.fixture(scope="session")
def hotmic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The founding case re-created (tests/fixtures/hotmic): mixes, tracks and a two-channel file, with truth;
    built once per test process for the speakers' and ingest's tests, which only read it."""
    folder = tmp_path_factory.mktemp("hotmic")
    # In a process of its own: espeak-ng's library carries a little state from one utterance to the next, so a
    # recipe is repeatable as a fresh run, whatever else this process synthesised before.
    subprocess.run([sys.executable, str(FIXTURES / "hotmic" / "make_hotmic.py"), str(folder)], check=True)
    return folder


# The Spanish fixtures (tests/fixtures/spanish) as the multilingual model (faster-whisper base, English and Spanish)
# hears them, made once: tests/transcribe/test_multilingual.py checks them, tests/cli/test_languages.py finds them
# where `testimony` keeps machine transcripts. The two modules run on one worker (tests/scheduling.py: GROUPS).


@pytest.fixture(scope="session")
def interpreted_meeting() -> Transcript:
    return multilingual_transcript("spanish/interpreted-meeting.ogg")


@pytest.fixture(scope="session")
def spanish_testimony() -> Transcript:
    return multilingual_transcript("spanish/testimony-es.ogg")


def multilingual_transcript(name: str) -> Transcript:
    from archive.transcribe import make_transcriber

    transcriber = make_transcriber(Settings(engine="faster-whisper", languages=("en", "es"), threads=1))
    return transcriber.transcribe(speech(name))


@pytest.fixture
def give_voice(sessions):  # type: ignore[no-untyped-def]
    """Set a speaker's embedding, speech time and turns, as diarization would (tests.factories.speakers.unit)."""
    return functools.partial(set_voice, sessions)


@pytest.fixture
def smtp_server() -> Iterator[MailServer]:
    """An aiosmtpd server on 127.0.0.1 that records every message (tests.factories.mail_server.MailServer)."""
    with MailServer() as server:
        yield server


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: MailServer) -> Settings:
    return dataclasses.replace(
        settings, mail_from=ARCHIVE_ADDRESS, smtp_host=smtp_server.host, smtp_port=smtp_server.port
    )


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem); a test trusts it with SSL_CERT_FILE."""
    return make_certificate(tmp_path_factory.mktemp("tls"))
