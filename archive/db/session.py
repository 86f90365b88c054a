"""Database engines and sessions; SQLite gets WAL, foreign keys and a busy timeout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from archive.db import version

MIGRATIONS = Path(__file__).with_name("migrations")

# PostgreSQL-only objects made by hand-written migrations (0002: full-text search), not in the models:
# autogenerate must not propose dropping them.
DATABASE_ONLY = {"search_vector", "ix_segments_search_vector"}


def include_object(obj: Any, name: Any, type_: Any, reflected: Any, compare_to: Any) -> bool:
    """Alembic's filter: compare everything but the DATABASE_ONLY objects."""
    return name not in DATABASE_ONLY


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, json_deserializer=load_json)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, json_deserializer=load_json)
    version.watch(engine)  # every write of content changes the number cached pages are kept under
    return engine


def load_json(text: str) -> Any:
    """JSON columns read with orjson: a 2,000-line meeting's words decode in a fifth of the time. What orjson
    refuses (NaN, integers over 64 bits), the standard library reads as it always did."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (for them, Session.execute returns a CursorResult)."""
    return cast("CursorResult[Any]", result).rowcount


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to the newest Alembic revision (what `testimony init` runs).

    On SQLite, batch migrations rebuild a table (copy, drop, rename); with foreign keys on, dropping a table
    that others refer to fails or cascades. So they run with foreign keys off, as SQLite's documentation
    advises for schema changes, and the result is checked with `PRAGMA foreign_key_check` before commit.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction
            connection.commit()
        connection.info[version.PAUSED] = True  # migrations' own writes: the table may not exist yet
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:5]}")
        finally:
            connection.info.pop(version.PAUSED, None)
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys = ON")
                connection.commit()


def connect(url: str) -> sessionmaker[Session]:
    """A sessionmaker for the archive's database (the schema must exist: see `migrate`)."""
    return make_sessionmaker(make_engine(url))
