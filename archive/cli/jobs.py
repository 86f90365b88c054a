"""`testimony jobs …`: background jobs from the command line (archive.worker.jobs); `testimony worker` runs them."""

from __future__ import annotations

import click
from sqlalchemy import select

from archive.errors import InvalidInput, NotFound


@click.group()
def jobs() -> None:
    """Background jobs (transcription of uploads and queued meetings)."""


@jobs.command("list")
@click.option("--status", type=click.Choice(["queued", "running", "done", "failed"]), help="Only jobs in this state.")
@click.pass_context
def jobs_list(ctx: click.Context, status: str | None) -> None:
    """Jobs, newest first: id, state, percent done, meeting, attempts, error."""
    from archive.cli.context import sessions_for, settings_from
    from archive.db.models import Job
    from archive.worker.jobs import progress_of

    settings = settings_from(ctx)
    sessions = sessions_for(ctx, settings)
    with sessions() as session:
        query = select(Job).order_by(Job.id.desc()).limit(200)
        if status:
            query = query.where(Job.status == status)
        for job in session.scalars(query):
            state = progress_of(job)
            eta = f" eta {state['eta_seconds']} s" if state["eta_seconds"] is not None else ""
            error = f"  {job.error}" if job.error else ""
            click.echo(
                f"{job.id}\t{job.status}\t{state['percent']:.0f}%{eta}\t{state['meeting'] or '-'}"
                f"\tattempt {job.attempts}/{job.max_attempts}{error}"
            )


@jobs.command("retry")
@click.argument("job_id", type=int)
@click.pass_context
def jobs_retry(ctx: click.Context, job_id: int) -> None:
    """Queue a failed job again, with its attempts counted afresh."""
    from archive.cli.context import sessions_for, settings_from
    from archive.db.models import Job

    settings = settings_from(ctx)
    sessions = sessions_for(ctx, settings)
    with sessions() as session, session.begin():
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"no job {job_id}")
        if job.status != "failed":
            raise InvalidInput(f"job {job_id} is {job.status}: only a failed job can be retried")
        job.status, job.attempts, job.error, job.finished_at = "queued", 0, None, None
    click.echo(f"job {job_id} queued again")
