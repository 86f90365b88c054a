"""The one lease mechanism (archive.db.leases) that jobs and the outbox's mail share, on SQLite and PostgreSQL:
of two workers taking one row, one wins; a holder renews and settles only while the lease is still its own."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, select

from archive.db.leases import compare_and_set, lapsed, lease_end
from archive.db.models import Job
from archive.home import open_home

NOW = dt.datetime(2026, 11, 3, 12, 0, tzinfo=dt.UTC)


def _take(sessions, job_id: int, token: str, now: dt.datetime) -> bool:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        free = (Job.status == "queued") | and_(Job.status == "running", lapsed(Job.lease_until, now))
        return compare_and_set(
            session, Job.id, job_id, free, status="running", lease_token=token, lease_until=lease_end(now, 60)
        )


def _renew(sessions, job_id: int, token: str, now: dt.datetime) -> bool:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        return compare_and_set(session, Job.id, job_id, Job.lease_token == token, lease_until=lease_end(now, 60))


def test_one_of_two_workers_takes_a_row_and_only_its_holder_renews_it(settings, sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        job = Job(kind="dumps", parameters={})
        session.add(job)
        session.flush()
        job_id = job.id
    other = open_home(settings)  # a second worker: its own engine, as on another machine
    try:
        assert _take(sessions, job_id, "first", NOW)
        assert not _take(other, job_id, "second", NOW)  # held: the second worker's UPDATE matches nothing
        assert _renew(sessions, job_id, "first", NOW + dt.timedelta(seconds=30))
        assert not _renew(other, job_id, "second", NOW + dt.timedelta(seconds=30))
        # The holder stops renewing (killed): once its lease has lapsed, the other worker takes the row …
        with sessions() as session:
            assert (
                session.scalars(select(Job.id).where(lapsed(Job.lease_until, NOW + dt.timedelta(seconds=89)))).all()
                == []
            )
            assert session.scalars(
                select(Job.id).where(lapsed(Job.lease_until, NOW + dt.timedelta(seconds=91)))
            ).all() == [job_id]
        assert _take(other, job_id, "second", NOW + dt.timedelta(seconds=91))
        # … and the first one, back, can no longer renew or settle it.
        assert not _renew(sessions, job_id, "first", NOW + dt.timedelta(seconds=92))
        with sessions() as session, session.begin():
            assert not compare_and_set(session, Job.id, job_id, Job.lease_token == "first", status="done")
        with sessions() as session:
            assert session.get_one(Job, job_id).lease_token == "second"
    finally:
        other.kw["bind"].dispose()
