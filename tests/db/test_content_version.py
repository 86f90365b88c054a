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
