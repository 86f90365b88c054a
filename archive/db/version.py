"""content_version: one number that changes whenever anything the public pages show may have changed.

The site keeps rendered pages for visitors under this number (archive.web.page_cache). Every transaction that
writes a content table also adds one to it, in the same transaction, as it commits: an engine event sees each
INSERT, UPDATE and DELETE, from the ORM or from core statements alike, so no write path can forget to. Tables
of operation rather than content (sign-ins, the audit log, jobs, mail, letters, accounts, rate limits) do not count.

A request reads the number before anything else it reads. On SQLite its snapshot starts there; on
PostgreSQL every later statement sees at least the commit that made the number. So a page kept under a
number was rendered from data at least that new: it can be newer than its key, never older.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

OPERATIONAL_TABLES = frozenset(
    {
        "alembic_version",
        "audit_events",
        "content_version",
        "job_chunks",
        "jobs",
        "letters",
        "outbox",
        "rate_limits",
        "user_sessions",
        "users",
    }
)
_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
# An upsert, so that a database copied without its rows (the tests' schema-only template) still counts.
_BUMP = (
    "INSERT INTO content_version (id, number) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET number = content_version.number + 1"
)
_WRITTEN = "testimony_content_written"  # in connection.info from a transaction's first content write to its end
PAUSED = "testimony_content_version_paused"  # set while migrations run (they make and drop tables)


def watch(engine: Engine) -> None:
    event.listen(engine, "begin", _forget)
    event.listen(engine, "rollback", _forget)
    event.listen(engine, "after_cursor_execute", _after_execute)
    event.listen(engine, "commit", _commit)


def current(session: Session) -> int:
    return session.scalar(text("SELECT number FROM content_version WHERE id = 1")) or 0


def _forget(connection: Any) -> None:
    connection.info.pop(_WRITTEN, None)


def _after_execute(
    connection: Any, _cursor: Any, statement: Any, _parameters: Any, _context: Any, _executemany: Any
) -> None:
    info = connection.info
    if _WRITTEN in info or info.get(PAUSED):
        return
    match = _WRITE.match(statement)
    # A batch migration's copy of a table (SQLite) is not a write of content: the rows are the same.
    if match is None or match.group(1).lower() in OPERATIONAL_TABLES or match.group(1).startswith("_alembic_tmp_"):
        return
    # Asked once per writing transaction (a catalogue lookup): a database at an older schema has no table.
    info[_WRITTEN] = connection.dialect.has_table(connection, "content_version")


def _commit(connection: Any) -> None:
    """Just before the commit, in the same transaction: on PostgreSQL the row's lock is held only while the
    transaction commits, so writers do not queue behind one another's long transactions."""
    if not connection.info.pop(_WRITTEN, False):
        return
    cursor = connection.connection.cursor()  # the DBAPI connection: nothing more goes through SQLAlchemy now
    try:
        cursor.execute(_BUMP)
    finally:
        cursor.close()
