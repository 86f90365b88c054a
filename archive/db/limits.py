"""Rate limits counted exactly under concurrency: one counter row per key, for a window that starts at its first use.

`take` adds one to a key's count and says whether the count was still under the limit, in a single statement:
INSERT … ON CONFLICT (key) DO UPDATE SET count = count + 1 … WHERE count < limit (or the window has run out, and
it starts again at 1). PostgreSQL locks the row and re-checks the condition against its newest version; SQLite
has one writer at a time. So of 40 concurrent takes with a limit of 5 exactly 5 succeed, on both, where a count
of earlier rows followed by an insert let 12 through. A take belongs to the caller's transaction: rolled back,
it was never taken. Keys are SHA-256 digests of what is counted, so the table names nobody.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.db.models import RateLimit
from archive.db.session import rows_changed


def key_of(*parts: str) -> str:
    """The key of what is counted, e.g. key_of("sign-in", email, address)."""
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def take(session: Session, key: str, limit: int, window: dt.timedelta, now: dt.datetime) -> bool:
    """Count one more for `key`; False (and nothing counted) when `limit` were counted in its window already."""
    if limit < 1:
        return False
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = RateLimit.__table__
    ended = table.c.expires_at <= now
    statement = (
        dialect.insert(table)
        .values(key=key, count=1, expires_at=now + window)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((ended, 1), else_=table.c.count + 1),
                "expires_at": case((ended, now + window), else_=table.c.expires_at),
            },
            where=or_(ended, table.c.count < limit),
        )
        .returning(table.c.count)  # a row when it was counted (an insert's row count is not reported everywhere)
    )
    return session.execute(statement).first() is not None


def give_back(session: Session, key: str, now: dt.datetime) -> None:
    """Un-count one for `key` (an attempt that turned out not to count, such as a right password)."""
    session.execute(
        update(RateLimit)
        .where(RateLimit.key == key, RateLimit.expires_at > now, RateLimit.count > 0)
        .values(count=RateLimit.count - 1)
    )


def clear(session: Session, key: str) -> None:
    session.execute(delete(RateLimit).where(RateLimit.key == key))


def counted(session: Session, key: str, now: dt.datetime) -> int:
    """How many are counted for `key` in its current window (0 once it has run out)."""
    row = session.scalar(select(RateLimit).where(RateLimit.key == key))
    if row is None or _aware(row.expires_at) <= now:
        return 0
    return row.count


def forget_expired(settings: Settings, sessions: sessionmaker[Session], now: dt.datetime) -> int:
    """Delete counters whose window has run out (one of the worker's periodic tasks); how many."""
    with sessions() as session, session.begin():
        return rows_changed(session.execute(delete(RateLimit).where(RateLimit.expires_at <= now)))


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite keeps no time zone; what is written is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
