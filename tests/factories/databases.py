"""The test databases: the local PostgreSQL server (trust auth), a fresh schema in this run's database per test."""

from __future__ import annotations

import os
import uuid

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
