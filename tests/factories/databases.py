"""The test databases: the local PostgreSQL server (trust auth), a fresh schema in this run's database per test;
which tests run on both SQLite and PostgreSQL."""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL, make_url

# Each test run gets its own database (each worker, under pytest-xdist); a test its own schema, or the worker's
# migrated schema lent to it (MigratedSchemas).
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
    return schema_url(base, schema)


def schema_url(base: URL, schema: str) -> str:
    return base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


class MigratedSchemas:
    """A worker's migrated PostgreSQL schema, lent to one test at a time and emptied after it.

    Replaying the migrated schema's DDL costs the server 0.5 to 2 s per test on this machine; emptying the tables
    (DELETE, children first) and restarting the sequences costs 10 to 30 ms. Each test still commits for real, on
    as many connections, threads and processes as it likes. A schema that cannot be proven clean after a test
    (a connection to the worker's database still open, the schema changed, a DELETE refused) is left behind (the
    database is dropped at the end of the run) and the next test gets a new one.
    """

    def __init__(self, base: URL, ddl_for: Callable[[str], str]) -> None:
        self.base = base
        self.ddl_for = ddl_for
        self.schema: str | None = None
        self.shape = ""
        self.lent = False
        self.made = 0  # schemas made (1 when every test gave its schema back clean)

    def take(self) -> str:
        assert not self.lent, "one test at a time per worker"
        if self.schema is None:
            schema = f"w_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(libpq(self.base), autocommit=True) as connection:
                connection.execute(f'CREATE SCHEMA "{schema}"')
                connection.execute(self.ddl_for(schema).encode("utf-8"))
                self.shape = _shape(connection, schema)
            self.schema = schema
            self.made += 1
        self.lent = True
        return schema_url(self.base, self.schema)

    def lends(self, url: str) -> bool:
        """Whether this URL is the schema lent now (migrated already: nothing to load)."""
        return self.lent and self.schema is not None and url == schema_url(self.base, self.schema)

    def give_back(self) -> None:
        self.lent = False
        if self.schema is not None and not self._emptied(self.schema):
            self.schema = None

    def _emptied(self, schema: str) -> bool:
        with psycopg.connect(libpq(self.base), autocommit=True) as connection:
            others = connection.execute(_OTHERS).fetchone()
            if others is not None and others[0] != 0:
                gc.collect()  # an engine nobody closed (a search backend's, say) closes its pool when collected
                others = connection.execute(_OTHERS).fetchone()
            if others is None or others[0] != 0 or _shape(connection, schema) != self.shape:
                return False
            tables = [row[0] for row in connection.execute(_TABLES, (schema,))]
            sequences = [row[0] for row in connection.execute(_SEQUENCES, (schema,))]
            try:
                with connection.transaction():
                    connection.execute("SET LOCAL lock_timeout = '2s'")
                    for table in _children_first(tables):
                        connection.execute(f'DELETE FROM "{schema}"."{table}"'.encode())
                    if sequences:
                        restart = ", ".join(f'setval(\'"{schema}"."{name}"\', 1, false)' for name in sequences)
                        connection.execute(f"SELECT {restart}".encode())
            except psycopg.Error:
                return False
        return True


_OTHERS = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> 'alembic_version'"
_SEQUENCES = "SELECT sequencename FROM pg_sequences WHERE schemaname = %s"
# The schema's columns, indexes, constraints and Alembic revision: a test that changed any of them (a migration
# run down and up, say) leaves a schema that is not the template any more.
_SHAPE = """
SELECT md5(coalesce((SELECT string_agg(table_name || '.' || column_name || ':' || data_type || ':'
                                       || coalesce(column_default, ''), ',' ORDER BY table_name, column_name)
                     FROM information_schema.columns WHERE table_schema = %(s)s), '')
        || coalesce((SELECT string_agg(indexdef, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = %(s)s), '')
        || coalesce((SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint c
                     JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = %(s)s), ''))
"""


def _shape(connection: psycopg.Connection, schema: str) -> str:
    shape = connection.execute(_SHAPE, {"s": schema}).fetchone()
    try:
        version = connection.execute(f"SELECT string_agg(version_num, ',') FROM \"{schema}\".alembic_version".encode())
        revision = version.fetchone()
    except psycopg.Error:
        return ""
    return f"{shape[0] if shape else ''}:{revision[0] if revision else ''}"


def _children_first(tables: list[str]) -> list[str]:
    """The tables in an order that DELETE can follow with the foreign keys on: rows that refer to others first."""
    import archive.db.models  # noqa: F401  (registers every table on the metadata)
    from archive.db.base import Base

    order = [table.name for table in reversed(Base.metadata.sorted_tables)]
    return [t for t in tables if t not in order] + [t for t in order if t in tables]


def migrated_postgres_schema(request: pytest.FixtureRequest) -> str:
    """A URL whose search_path is the worker's migrated, empty schema, lent for this test (MigratedSchemas)."""
    schemas: MigratedSchemas = request.getfixturevalue("postgres_schemas")
    if schemas.lent:  # a second database in one test: a fresh schema (the caller loads the template)
        return fresh_postgres_schema(request)
    url = schemas.take()
    request.addfinalizer(schemas.give_back)
    return url


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
