"""Rate-limit counters (archive.db.limits): a window from the first take, giving back, forgetting; both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from archive.db import limits
from archive.db.models import RateLimit

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(minutes=15)


def take(sessions, key: str, limit: int, now: dt.datetime) -> bool:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        return limits.take(session, key, limit, WINDOW, now)


def test_a_window_starts_at_the_first_take_and_counts_to_the_limit(settings, sessions) -> None:  # type: ignore[no-untyped-def]
    key = limits.key_of("sign-in", "ana@example.org", "192.0.2.1")
    assert len(key) == 64 and "ana" not in key
    assert [take(sessions, key, 3, NOW + dt.timedelta(minutes=n)) for n in range(5)] == [True] * 3 + [False] * 2
    assert take(sessions, key, 3, NOW + WINDOW - dt.timedelta(seconds=1)) is False  # still the first window
    assert take(sessions, key, 3, NOW + WINDOW) is True  # a new one, counting from 1
    with sessions() as session:
        assert limits.counted(session, key, NOW + WINDOW) == 1
        assert limits.counted(session, key, NOW + 2 * WINDOW) == 0
    assert take(sessions, "other", 0, NOW) is False  # a limit of 0 lets nothing through


def test_a_rolled_back_take_was_never_taken_and_give_back_uncounts(settings, sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        assert limits.take(session, "k", 1, WINDOW, NOW)
        session.rollback()
    assert take(sessions, "k", 1, NOW) is True and take(sessions, "k", 1, NOW) is False
    with sessions() as session, session.begin():
        limits.give_back(session, "k", NOW)
        limits.give_back(session, "k", NOW)  # never below nothing
    with sessions() as session:
        assert limits.counted(session, "k", NOW) == 0


def test_the_worker_forgets_counters_whose_window_ended(settings, sessions) -> None:  # type: ignore[no-untyped-def]
    take(sessions, "old", 5, NOW - 2 * WINDOW)
    take(sessions, "new", 5, NOW)
    assert limits.forget_expired(settings, sessions, NOW) == 1
    with sessions() as session:
        assert session.scalars(select(RateLimit.key)).all() == ["new"]
        assert session.scalar(select(func.count()).select_from(RateLimit)) == 1
