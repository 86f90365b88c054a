"""One lease mechanism for the work that workers take from a table (background jobs, the outbox's mail).

A worker takes a row with a compare-and-set UPDATE that repeats the condition under which the row is free (a
queued job; a due message, or one whose lease ran out), so of several workers on SQLite or PostgreSQL only one
matches. Taking it sets when the lease ends; renewing it (the heartbeat) and recording the outcome are
compare-and-set UPDATEs too, on the condition that the lease is still this worker's, so a worker that lost it
writes nothing more. A row whose lease ended belongs to a worker that died: it is free again (lapsed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from archive.db.session import rows_changed


def lease_end(now: dt.datetime, seconds: float) -> dt.datetime:
    """When a lease taken or renewed now ends."""
    return now + dt.timedelta(seconds=seconds)


def lapsed(lease: InstrumentedAttribute[dt.datetime | None], now: dt.datetime) -> ColumnElement[bool]:
    """Rows whose lease ended before now: their worker stopped (killed, out of memory, its machine gone)."""
    return lease < now


def compare_and_set(
    session: Session, key: InstrumentedAttribute[int], row_id: int, condition: ColumnElement[bool], **values: Any
) -> bool:
    """Set `values` on the row whose `key` (its id column) is `row_id`, while `condition` still holds of it: taking
    a free row, renewing or settling one this worker holds. True when this worker's UPDATE changed it; the caller
    commits."""
    statement = (
        update(key.class_).where(key == row_id, condition).values(**values).execution_options(synchronize_session=False)
    )
    return rows_changed(session.execute(statement)) == 1
