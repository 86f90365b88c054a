"""content_version (archive/db/version.py): one more per transaction that writes content, and only then."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from archive.db import version
from archive.db.models import Body


def number(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return version.current(session)


def test_a_transaction_that_writes_content_counts_once(sessions) -> None:  # type: ignore[no-untyped-def]
    before = number(sessions)
    with sessions() as session, session.begin():
        session.add(Body(name="Council", slug="council"))
        session.flush()
        session.execute(text("UPDATE bodies SET name = 'City Council'"))  # core, not the ORM: seen all the same
    assert number(sessions) == before + 1
    with sessions() as session, session.begin():
        session.execute(text("DELETE FROM bodies"))
    assert number(sessions) == before + 2


def test_reads_operations_and_rollbacks_do_not_count(sessions) -> None:  # type: ignore[no-untyped-def]
    before = number(sessions)
    with sessions() as session, session.begin():
        session.execute(text("SELECT count(*) FROM meetings"))
        session.execute(text("UPDATE users SET disabled_at = disabled_at"))  # accounts are not what pages show
        session.execute(text("DELETE FROM user_sessions"))
    with pytest.raises(RuntimeError), sessions() as session, session.begin():
        session.add(Body(name="Council", slug="council"))
        session.flush()
        raise RuntimeError("changed my mind")
    assert number(sessions) == before


def test_migrations_do_not_count_and_the_table_is_made(settings) -> None:  # type: ignore[no-untyped-def]
    from archive.db.session import make_engine, make_sessionmaker, migrate

    engine = make_engine(settings.sqlalchemy_url)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    assert number(sessions) == 0  # no row yet: the first write makes it (an upsert)
    with sessions() as session, session.begin():
        session.add(Body(name="Council", slug="council"))
    assert number(sessions) == 1
    engine.dispose()


def test_a_long_transaction_does_not_hold_back_other_writers(request, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The number is taken as a transaction commits, not at its first write: on PostgreSQL a transcription or an
    import that writes early and commits late must not make a curator's correction wait for the row's lock.
    (PostgreSQL only: SQLite has one writer at a time whatever the archive does.)"""
    from archive.config import Settings
    from archive.home import init_home
    from tests.factories.databases import fresh_postgres_schema

    sessions = init_home(Settings(home=tmp_path, database_url=fresh_postgres_schema(request)))
    try:
        with sessions() as long_one, sessions() as quick_one:
            long_one.begin()
            long_one.add(Body(name="Council", slug="council"))
            long_one.flush()  # written, not committed
            with quick_one.begin():
                quick_one.execute(text("SET LOCAL lock_timeout = '2s'"))  # a regression fails here, not hangs
                quick_one.add(Body(name="Board", slug="board"))
            assert number(sessions) == 1
            long_one.commit()
        assert number(sessions) == 2
    finally:
        sessions.kw["bind"].dispose()
