"""`testimony privacy`: consent, redactions, lifts, purges and the ledger from a terminal, with the same rules,
confirmations and audit entries as the curators' pages (archive.privacy)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from archive.cli.context import say, sessions_for, settings_from
from archive.db.models import SPEAKER_CONSENTS
from archive.timecodes import format_clock, parse_clock


def _who(command: Callable[..., Any]) -> Callable[..., Any]:
    """Why, and who asked and approved: required on every ledger change, as on the pages."""
    for option in reversed(
        [
            click.option("--reason", required=True, help="Why (kept in the ledger, never published)."),
            click.option("--requested-by", required=True, help="Who asked: the speaker, or who acts for them."),
            click.option("--approved-by", required=True, help="Who approved it (a curator's name or address)."),
        ]
    ):
        command = option(command)
    return command


@click.group()
def privacy() -> None:
    """Consent, redactions, lifts and purges, recorded in the ledger and the purge log like the curators' pages."""


@privacy.command()
@click.argument("slug")
@click.argument("voice")
@click.argument("consent", type=click.Choice(SPEAKER_CONSENTS))
@_who
@click.pass_context
def consent(ctx: click.Context, slug: str, voice: str, consent: str, **who: str) -> None:
    """Set what VOICE (a label such as SPEAKER_01) of meeting SLUG agreed to; public pages follow at once."""
    from archive.privacy.ledger import set_consent

    settings = settings_from(ctx)
    with sessions_for(ctx, settings)() as session, session.begin():
        row = set_consent(session, slug, voice, consent, **who, user=None)
    click.echo(f"ledger entry {row.id}: {slug} {voice} is {consent}")


@privacy.command()
@click.argument("slug")
@click.option("--phrase", help="Words to withhold wherever they are said (a name), in the text and the audio.")
@click.option("--start", help="Withhold everything from this time (seconds or h:mm:ss)…")
@click.option("--end", help="…to this time.")
@_who
@click.pass_context
def redact(ctx: click.Context, slug: str, phrase: str | None, start: str | None, end: str | None, **who: str) -> None:
    """Withhold a phrase, or a span of time, of meeting SLUG."""
    from archive.errors import InvalidInput
    from archive.privacy.ledger import redact_phrase, redact_range

    if (phrase is None) == (start is None and end is None):
        raise InvalidInput("give either --phrase, or --start and --end")
    settings = settings_from(ctx)
    with sessions_for(ctx, settings)() as session, session.begin():
        if phrase is not None:
            row = redact_phrase(session, slug, phrase, **who, user=None)
        else:
            if start is None or end is None:
                raise InvalidInput("--start and --end: give both")
            row = redact_range(session, slug, parse_clock(start), parse_clock(end), **who, user=None)
    click.echo(f"ledger entry {row.id}: withheld in {slug}")


@privacy.command()
@click.argument("entry", type=int)
@click.option("--reason", required=True, help="Why the redaction is withdrawn.")
@click.pass_context
def lift(ctx: click.Context, entry: int, reason: str) -> None:
    """Withdraw redaction ENTRY (its number in the ledger); the original entry stays on the record."""
    from archive.privacy.ledger import lift as lift_redaction

    settings = settings_from(ctx)
    with sessions_for(ctx, settings)() as session, session.begin():
        row = lift_redaction(session, entry, reason=reason, user=None)
    click.echo(f"ledger entry {row.id}: redaction {entry} lifted")


@privacy.command()
@click.argument("slug")
@_who
@click.option("--yes", is_flag=True, help="Do not ask to type the slug again (for scripts).")
@click.pass_context
def purge(ctx: click.Context, slug: str, yes: bool, **who: str) -> None:
    """Delete meeting SLUG's recordings, transcripts, text, voices and excerpts for good; a tombstone and the ledger
    entry remain."""
    from archive.errors import InvalidInput
    from archive.privacy.purge import purge_meeting, remove_files

    if not yes and click.prompt(f"type the meeting's slug ({slug}) to purge it", default="", err=True) != slug:
        raise InvalidInput("the slug typed does not match: nothing was purged")
    settings = settings_from(ctx)
    with sessions_for(ctx, settings)() as session, session.begin():
        files = purge_meeting(session, settings, slug, **who, user=None)
    removed = remove_files(files)  # only once the rows are gone: a failed commit leaves everything in place
    say(f"{removed} file(s) removed")
    click.echo(f"{slug} purged")


@privacy.command()
@click.option("--meeting", "slug", help="One meeting's entries.")
@click.option("--scope", type=click.Choice(("consent", "range", "phrase", "purge", "lift")))
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one entry each.")
@click.pass_context
def ledger(ctx: click.Context, slug: str | None, scope: str | None, limit: int, as_json: bool) -> None:
    """The redaction ledger, newest first: what was withheld, over which span, why, asked for and approved by whom."""
    from archive.privacy.ledger import ledger as ledger_rows

    settings = settings_from(ctx)
    with sessions_for(ctx, settings)() as session:
        for row, meeting in ledger_rows(session, meeting_slug=slug, scope=scope, limit=limit):
            entry = {
                "id": row.id,
                "at": row.created_at.isoformat(),
                "meeting": meeting.slug if meeting else None,
                "scope": row.scope,
                "consent": row.consent,
                "start": row.start,
                "end": row.end,
                "phrase": row.phrase,
                "lifts": row.lifts_id,
                "reason": row.reason,
                "requested_by": row.requested_by,
                "approved_by": row.approved_by,
            }
            if as_json:
                click.echo(json.dumps(entry, ensure_ascii=False))
                continue
            what = {
                "consent": f"consent {row.consent}",
                "range": f"{format_clock(row.start or 0)}–{format_clock(row.end or 0)}",
                "phrase": f"phrase {row.phrase!r}",
                "lift": f"lifts {row.lifts_id}",
                "purge": "meeting purged",
            }[row.scope]
            click.echo(
                f"{row.id}\t{row.created_at:%Y-%m-%d %H:%M}\t{entry['meeting'] or '-'}\t{what}\t"
                f"{row.reason} (asked: {row.requested_by}; approved: {row.approved_by})"
            )
