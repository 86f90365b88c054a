"""`testimony campaign …`: campaigns from the command line (archive.campaigns).

archive.cli imports this module at its end, so its helpers are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.db.models import CAMPAIGN_TARGETS
from archive.db.types import utcnow
from archive.errors import InvalidInput

CLI_ACTOR = "cli"


@click.group()
def campaign() -> None:
    """Letter-writing campaigns: make, list, show, open and close them; organizers; the retention purge."""


def _sessions(ctx: click.Context) -> tuple[Settings, sessionmaker[Session]]:
    from archive.cli.context import sessions_for, settings_from

    settings = settings_from(ctx)
    return settings, sessions_for(ctx, settings)


def _read_template(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"--template-file {path}: not UTF-8 text") from None
    except OSError as error:
        raise InvalidInput(f"--template-file {path}: {error.strerror or error}") from None


@campaign.command("create")
@click.option("--title", required=True, help="The campaign's title (also the letters' subject unless --subject).")
@click.option(
    "--target", type=click.Choice(CAMPAIGN_TARGETS), default="both", show_default=True, help="Who gets letters."
)
@click.option("--recipient", "recipients", multiple=True, help="A legislator's email (with --target list); repeat.")
@click.option("--excerpt", "excerpts", multiple=True, help="An excerpt's slug to cite; repeat, the first is {quote}.")
@click.option("--why", default="", help="Why it matters, shown to supporters.")
@click.option("--subject", help="The letters' subject (default: the title).")
@click.option(
    "--template-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The letter's body with {placeholders} (default: a short letter quoting the first excerpt).",
)
@click.option("--deadline", help="The last day letters can be written, YYYY-MM-DD.")
@click.option("--daily-cap", type=click.IntRange(min=1), default=2000, show_default=True, help="Letters per UTC day.")
@click.option("--open", "open_now", is_flag=True, help="Open it to supporters at once.")
@click.pass_context
def campaign_create(
    ctx: click.Context,
    title: str,
    target: str,
    recipients: tuple[str, ...],
    excerpts: tuple[str, ...],
    why: str,
    subject: str | None,
    template_file: Path | None,
    deadline: str | None,
    daily_cap: int,
    open_now: bool,
) -> None:
    """Make a campaign (a draft unless --open); prints its slug last. With --open, nothing is made if it cannot open."""
    from archive.campaigns.manage import create_campaign, open_campaign

    template = _read_template(template_file)
    settings, sessions = _sessions(ctx)
    with sessions() as session, session.begin():
        made = create_campaign(
            session,
            title=title,
            why=why,
            target=target,
            recipients=recipients,
            subject=subject,
            letter_template=template,
            deadline=deadline,
            excerpt_slugs=excerpts,
            daily_cap=daily_cap,
            created_by=CLI_ACTOR,
        )
        if open_now:
            open_campaign(session, made, settings=settings)
        _audit(session, "campaign-create", made.slug, status=made.status)
        slug, status = made.slug, made.status
    click.echo(f"campaign {slug!r} made ({status})", err=True)
    click.echo(slug)


@campaign.command("list")
@click.pass_context
def campaign_list(ctx: click.Context) -> None:
    """Every campaign, newest first: slug, status, target, letters sent, title."""
    from sqlalchemy import select

    from archive.campaigns.manage import letter_counts
    from archive.db.models import Campaign

    _, sessions = _sessions(ctx)
    with sessions() as session:
        rows = session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())).all()
        if not rows:
            click.echo("no campaigns yet (testimony campaign create --title …)", err=True)
        for item in rows:
            counts = letter_counts(session, item)
            click.echo(
                f"{item.slug}  {item.status:<6}  {item.target:<6}  "
                f"{counts['confirmed']} letters, {counts['sent']} sent  {item.title}"
            )


@campaign.command("show")
@click.argument("slug")
@click.pass_context
def campaign_show(ctx: click.Context, slug: str) -> None:
    """One campaign: its settings, excerpts, organizers and counts of letters and emails."""
    from archive.campaigns.manage import find_campaign, letter_counts, purge_due

    settings, sessions = _sessions(ctx)
    with sessions() as session:
        item = find_campaign(session, slug)
        counts = letter_counts(session, item)
        due = purge_due(item, settings)
        lines = [
            f"slug: {item.slug}",
            f"title: {item.title}",
            f"status: {item.status}",
            f"target: {item.target}" + (f" ({', '.join(item.recipients)})" if item.target == "list" else ""),
            f"subject: {item.subject}",
            f"deadline: {item.deadline.isoformat() if item.deadline else '-'}",
            f"daily cap: {item.daily_cap}",
            f"excerpts: {', '.join(row.excerpt.slug for row in item.excerpts) or '-'}",
            f"organizers: {', '.join(row.user.email for row in item.organizers) or '-'}",
            "letters: " + ", ".join(f"{counts[k]} {k}" for k in ("written", "unconfirmed", "confirmed", "expired")),
            "emails to legislators: " + ", ".join(f"{counts[k]} {k}" for k in ("sent", "pending", "failed")),
        ]
        if item.purged_at is not None:
            lines.append(f"supporters' data deleted: {item.purged_at:%Y-%m-%d}")
        elif due is not None:
            lines.append(f"supporters' data deleted after: {due:%Y-%m-%d %H:%M} UTC")
    click.echo("\n".join(lines))


@campaign.command("open")
@click.argument("slug")
@click.pass_context
def campaign_open(ctx: click.Context, slug: str) -> None:
    """Open a campaign to supporters (it needs an excerpt, legislators to write to, no past deadline, and mail
    that can be sent: TESTIMONY_MAIL_FROM and an SMTP server that takes a test connection)."""
    from archive.campaigns.manage import find_campaign, open_campaign

    settings, sessions = _sessions(ctx)
    with sessions() as session, session.begin():
        open_campaign(session, find_campaign(session, slug), settings=settings)
        _audit(session, "campaign-open", slug)
    click.echo(f"{slug}: open")


@campaign.command("close")
@click.argument("slug")
@click.pass_context
def campaign_close(ctx: click.Context, slug: str) -> None:
    """Close a campaign: no more letters; its supporters' data is deleted after the retention period."""
    from archive.campaigns.manage import close_campaign, find_campaign, purge_due

    settings, sessions = _sessions(ctx)
    with sessions() as session, session.begin():
        item = find_campaign(session, slug)
        close_campaign(session, item)
        _audit(session, "campaign-close", slug)
        due = purge_due(item, settings)
    click.echo(f"{slug}: closed; supporters' data is deleted after {due:%Y-%m-%d} (UTC)")


@campaign.group("organizer")
def organizer() -> None:
    """Who organises a campaign: organizer accounts may edit it and see its supporters."""


def _organizer_change(ctx: click.Context, slug: str, email: str, adding: bool) -> None:
    from sqlalchemy import select

    from archive.campaigns.manage import add_organizer, find_campaign, remove_organizer
    from archive.db.models import User
    from archive.errors import NotFound

    _, sessions = _sessions(ctx)
    with sessions() as session, session.begin():
        item = find_campaign(session, slug)
        account = session.scalar(select(User).where(User.email == email.strip().lower()))
        if account is None:
            raise NotFound(f"EMAIL: no account {email!r} (testimony user add {email} --role organizer)")
        change = add_organizer if adding else remove_organizer
        changed = change(session, item, account)
        if changed:
            _audit(session, "organizer-add" if adding else "organizer-remove", slug, organizer=account.email)
    if adding:
        click.echo(f"{slug}: {account.email} {'now organises it' if changed else 'already organised it'}")
    else:
        click.echo(f"{slug}: {account.email} {'no longer organises it' if changed else 'did not organise it'}")


@organizer.command("add")
@click.argument("slug")
@click.argument("email")
@click.pass_context
def organizer_add(ctx: click.Context, slug: str, email: str) -> None:
    """Let an organizer account manage a campaign."""
    _organizer_change(ctx, slug, email, adding=True)


@organizer.command("remove")
@click.argument("slug")
@click.argument("email")
@click.pass_context
def organizer_remove(ctx: click.Context, slug: str, email: str) -> None:
    """Take an account off a campaign."""
    _organizer_change(ctx, slug, email, adding=False)


@campaign.command("purge")
@click.pass_context
def campaign_purge(ctx: click.Context) -> None:
    """Delete supporters' personal data from campaigns closed longer than TESTIMONY_SUPPORTER_RETENTION_DAYS.

    `testimony worker` does this by itself; counts and statuses stay.
    """
    from archive.campaigns.manage import purge_supporters

    settings, sessions = _sessions(ctx)
    purged = purge_supporters(settings, sessions, utcnow())
    click.echo(
        f"{purged} campaign(s) purged (closed more than {settings.supporter_retention_days} days ago)"
        if purged
        else "nothing to purge"
    )


def _audit(session: Session, action: str, target: str, **detail: Any) -> None:
    """The audit log records what was done from the command line too (actor "cli")."""
    from archive.accounts.users import record

    record(session, action, actor=CLI_ACTOR, target=target, **detail)
