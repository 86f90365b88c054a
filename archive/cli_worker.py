"""`testimony worker`: runs background work (letter delivery from the outbox); `testimony outbox`: looks at it."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys
import threading

import click

from archive.db.models import OUTBOX_STATUSES


@click.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, print a summary and exit.")
@click.option("--poll", type=click.FloatRange(min=0.1), default=5.0, show_default=True, help="Seconds between looks.")
@click.pass_context
def worker(ctx: click.Context, once: bool, poll: float) -> None:
    """Deliver the outbox's mail over SMTP, every --poll seconds until SIGTERM or Ctrl-C (which let the message
    in hand finish). Logs one line per message to stderr: outbox id, status, attempt."""
    from archive.cli import sessions_for, settings_from
    from archive.errors import ArchiveError
    from archive.mail.delivery import run_worker

    settings = settings_from(ctx)
    if not settings.mail_from:
        raise ArchiveError("TESTIMONY_MAIL_FROM is empty: set the archive's sending address to deliver mail")
    sessions = sessions_for(ctx, settings)
    logger = logging.getLogger("archive")
    handler = logging.StreamHandler(sys.stderr)  # one line per message; systemd's journal picks it up
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    stop = threading.Event()
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        report = run_worker(settings, sessions, once=once, poll=poll, stop=stop)
    finally:
        for number, previous_handler in previous.items():
            signal.signal(number, previous_handler)
        logger.removeHandler(handler)
        logger.setLevel(level)
    click.echo(f"worker: {report}", err=True)


@click.group()
def outbox() -> None:
    """The outbox: mail waiting to be delivered, delivered, or failed."""


@outbox.command("list")
@click.option("--status", type=click.Choice(OUTBOX_STATUSES), help="Only messages with this status.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="How many, newest first.")
@click.pass_context
def outbox_list(ctx: click.Context, status: str | None, limit: int) -> None:
    """Messages, newest first: id, kind, status, attempts, next attempt, recipient, last error."""
    from archive.cli import sessions_for, settings_from
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
    from archive.cli import sessions_for, settings_from
    from archive.mail.outbox import retry

    with sessions_for(ctx, settings_from(ctx))() as session, session.begin():
        retry(session, outbox_id, dt.datetime.now(dt.UTC))
    click.echo(f"outbox {outbox_id}: pending again")
