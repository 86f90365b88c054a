"""The one clock and the one column type for moments: every moment is stored in UTC and comes back aware.

SQLite keeps no time zone (it hands back what it stored, naive); PostgreSQL's timestamptz hands back an aware
moment in the connection's zone. UtcDateTime makes both give an aware UTC datetime, and refuses to guess
about a naive one on the way in: a naive moment is taken to be UTC only because utcnow() is the only clock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> dt.datetime:
    """Now, aware, in UTC: the archive's one clock."""
    return dt.datetime.now(dt.UTC)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A moment in UTC, aware (a naive one was written in UTC: see UtcDateTime)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp column whose values are aware UTC datetimes on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else as_utc(value)
