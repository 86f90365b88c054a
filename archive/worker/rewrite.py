"""The files rewritten after a change of the redaction ledger: the worker's "dumps" job, with progress.

Each ledger change queues the job in its own transaction (archive.privacy.ledger).

The public view hides what a redaction withholds at once, in the curator's request: pages, the API, exports and
search read the ledger (archive.privacy.view), and the meeting's search documents are written again on commit
(archive.search.sync). What stays is bytes: Whoosh only marks the old documents deleted, and the published bulk
downloads are snapshots. Rewriting those takes seconds at 100,000 segments, so it happens here, with progress
the job page shows. Step 1 removes the clips, captioned videos, cards and public copies of recordings made from the
touched meetings before the change (their keys changed, so they would never be served again, but they would stay
on disk with tags and words that name), withholds the phrases in the finished jobs' parameters and compacts the
search index (PostgreSQL needs nothing: its vector is a generated column of the published text); then one step per
meeting writes the new dump, and the old dumps go.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.db.leases import compare_and_set
from archive.db.models import Job, Meeting, Redaction
from archive.privacy.ledger import withhold_in_jobs
from archive.privacy.purge import forget_cached_files
from archive.publish.bulk import dumps_published, refresh_dumps
from archive.search.sync import backend_of

# Told (steps done, steps in all) as the work goes.
Progress = Callable[[int, int], None]


def rewrite_after_ledger_change(
    settings: Settings, sessions: sessionmaker[Session], meeting_ids: list[int], progress: Progress
) -> None:
    """Remove what was made from the touched meetings before the change, withhold the phrases in the jobs, compact
    the search index, then write the bulk downloads again from the public view (when there are any)."""
    started = time.time()
    rewrite = dumps_published(settings)
    with sessions() as session:
        meetings = int(session.scalar(select(func.count(Meeting.id))) or 0) if rewrite else 0
        meeting_ids = sorted(set(meeting_ids) | _changed_since_last_run(session))
    progress(0, 1 + meetings)
    with sessions() as session, session.begin():
        forget_cached_files(session, settings, meeting_ids, made_before=started)
        withhold_in_jobs(session)
    backend_of(sessions).compact()
    progress(1, 1 + meetings)
    if rewrite:
        with sessions() as session:
            refresh_dumps(settings, session, progress=lambda done, of: progress(1 + done, 1 + of))


def _changed_since_last_run(session: Session) -> set[int]:
    """The meetings of every ledger row since the last of these jobs started (an hour's margin for clocks): two
    changes committed at once may both have found one waiting job, and only one of them named its meeting."""
    last = session.scalar(select(func.max(Job.started_at)).where(Job.kind == "dumps", Job.status == "done"))
    rows = select(Redaction.meeting_id).where(Redaction.meeting_id.is_not(None)).distinct()
    if last is not None:
        rows = rows.where(Redaction.created_at >= last - dt.timedelta(hours=1))
    return {meeting_id for meeting_id in session.scalars(rows) if meeting_id is not None}


class JobProgress:
    """A job's progress written on its row (progress_done of progress_total) at most once a second, and the last
    step always, while this worker holds the job's lease: the job page reads it."""

    def __init__(self, sessions: sessionmaker[Session], job_id: int, token: str, every: float = 1.0) -> None:
        self.sessions, self.job_id, self.token, self.every = sessions, job_id, token, every
        self._written = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._written < self.every:
            return
        self._written = now
        with self.sessions() as session, session.begin():
            compare_and_set(
                session, Job.id, self.job_id, Job.lease_token == self.token, progress_done=done, progress_total=total
            )
