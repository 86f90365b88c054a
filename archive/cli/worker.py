"""`testimony worker` delivers the outbox's mail and runs transcription jobs; `testimony outbox` shows it."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from archive.db.models import OUTBOX_STATUSES

if TYPE_CHECKING:
    from archive.config import Settings
    from archive.mail.delivery import Periodic


@click.command()
@click.option("--once", is_flag=True, help="Do what is due now (mail, queued jobs), print a summary and exit.")
@click.option("--poll", type=click.FloatRange(min=0.1), default=5.0, show_default=True, help="Seconds between looks.")
@click.pass_context
def worker(ctx: click.Context, once: bool, poll: float) -> None:
    """Deliver the outbox's mail over SMTP and run queued transcription jobs, every --poll seconds until SIGTERM
    or Ctrl-C (which let the message in hand finish). Logs one line per message to stderr: id, status, attempt.

    Without TESTIMONY_MAIL_FROM it runs the jobs only, and refuses to start while mail is waiting."""
    from archive.cli.context import load_diarizer, load_transcriber, sessions_for, settings_from
    from archive.errors import ArchiveError
    from archive.mail.delivery import DeliveryReport, run_worker
    from archive.mail.outbox import waiting
    from archive.worker.jobs import work

    settings = settings_from(ctx)
    sessions = sessions_for(ctx, settings)
    if not settings.mail_from:
        with sessions() as session:
            if waiting(session):
                raise ArchiveError("TESTIMONY_MAIL_FROM is empty: set the archive's sending address to deliver mail")
        click.echo("testimony: mail delivery is off (TESTIMONY_MAIL_FROM is empty); running jobs only", err=True)
    logger = logging.getLogger("archive")
    handler = logging.StreamHandler(sys.stderr)  # one line per message or job; systemd's journal keeps them
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    stop = threading.Event()
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in (signal.SIGTERM, signal.SIGINT)}
    # Transcriptions take minutes: they run in their own thread so that mail never waits for one.
    jobs = _Thread(
        lambda: work(
            settings,
            sessions,
            once=once,
            poll=poll,
            stop=stop,
            load_transcriber=load_transcriber,
            load_diarizer=load_diarizer,
        ),
        stop,
    )
    try:
        jobs.start()
        report = DeliveryReport()
        if settings.mail_from:
            report = run_worker(settings, sessions, once=once, poll=poll, periodic=periodic_tasks(settings), stop=stop)
        jobs_ran = jobs.finish()
    finally:
        stop.set()
        for number, previous_handler in previous.items():
            signal.signal(number, previous_handler)
        logger.removeHandler(handler)
        logger.setLevel(level)
    click.echo(f"worker: mail {report}; jobs run {jobs_ran}", err=True)


def periodic_tasks(settings: Settings) -> list[Periodic]:
    """What the worker runs once per loop after delivering mail, each as task(settings, sessions, now): add a
    task here."""
    from archive.campaigns.manage import purge_supporters
    from archive.db.limits import forget_expired
    from archive.publish.follows import send_digests
    from archive.web.app import stored_secret_key

    # The digests' unsubscribe links are signed with the site's key, as the site checks them.
    digests = functools.partial(send_digests, secret_key=settings.secret_key or stored_secret_key(settings.home))
    # Supporters' data, supporter_retention_days after a campaign closes; rate-limit counters whose window ended;
    # the daily digests of follows by email.
    return [purge_supporters, forget_expired, digests]


class _Thread(threading.Thread):
    """A thread whose failure stops the worker and is raised again where it is joined."""

    def __init__(self, target: Callable[[], Any], stop: threading.Event) -> None:
        super().__init__(name="jobs", daemon=True)
        self._call, self._stop_all = target, stop
        self._result: Any = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            self._result = self._call()
        except BaseException as error:
            self._error = error
            self._stop_all.set()  # the mail loop ends too: the worker exits non-zero and its supervisor restarts it

    def finish(self) -> Any:
        while self.is_alive():  # short joins, so that the main thread handles signals meanwhile
            self.join(0.5)
        if self._error is not None:
            raise self._error
        return self._result


@click.group()
def outbox() -> None:
    """The outbox: mail waiting to be delivered, delivered, or failed."""


@outbox.command("list")
@click.option("--status", type=click.Choice(OUTBOX_STATUSES), help="Only messages with this status.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="How many, newest first.")
@click.pass_context
def outbox_list(ctx: click.Context, status: str | None, limit: int) -> None:
    """Messages, newest first: id, kind, status, attempts, next attempt, recipient, last error."""
    from archive.cli.context import sessions_for, settings_from
    from archive.mail.outbox import list_messages

    with sessions_for(ctx, settings_from(ctx))() as session:
        messages = list_messages(session, status=status, limit=limit)
    if not messages:
        click.echo("the outbox is empty" + (f" of {status} messages" if status else ""), err=True)
    for message in messages:
        # Letters go to legislators (public addresses); confirmations go to supporters, whose addresses are not
        # shown.
        recipient = message.to_email if message.kind == "letter" else "(supporter)"
        error = " ".join((message.last_error or "-").split())
        fields = [str(message.id), message.kind, message.status, f"attempts {message.attempts}"]
        fields += [f"{message.next_attempt_at:%Y-%m-%d %H:%M:%S}", recipient, error[:160]]
        click.echo("  ".join(fields))


@outbox.command("retry")
@click.argument("outbox_id", type=int)
@click.pass_context
def outbox_retry(ctx: click.Context, outbox_id: int) -> None:
    """Queue a failed message again (its attempts start over); the worker sends it at its next look."""
    from archive.cli.context import sessions_for, settings_from
    from archive.mail.outbox import retry

    with sessions_for(ctx, settings_from(ctx))() as session, session.begin():
        retry(session, outbox_id, dt.datetime.now(dt.UTC))
    click.echo(f"outbox {outbox_id}: pending again")
