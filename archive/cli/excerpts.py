"""`testimony excerpt …`: citable spans of meetings."""

from __future__ import annotations

import json

import click

from archive.cli.context import ArchiveGroup, say, sessions_for, settings_from
from archive.timecodes import format_clock, parse_clock


@click.group(cls=ArchiveGroup)
def excerpt() -> None:
    """Citable spans of meetings: make, list, show and verify excerpts."""


@excerpt.command("create")
@click.argument("slug")
@click.option("--start", "start_text", required=True, help="Start, in seconds or h:mm:ss (snapped to a word).")
@click.option("--end", "end_text", required=True, help="End, in seconds or h:mm:ss (snapped to a word).")
@click.option("--title", required=True, help="A short title, e.g. 'Deputy on a hot mic'.")
@click.option("--note", help="The organizer's note: why it matters.")
@click.pass_context
def excerpt_create(ctx: click.Context, slug: str, start_text: str, end_text: str, title: str, note: str | None) -> None:
    """Make an excerpt of a meeting; prints its slug last."""
    from archive.excerpts.manage import create_excerpt, quote

    with sessions_for(ctx, settings_from(ctx))() as session, session.begin():
        made = create_excerpt(
            session, slug, parse_clock(start_text), parse_clock(end_text), title, note=note, created_by="cli"
        )
        words = quote(session, made.meeting_id, made.start, made.end).text
        say(f"{format_clock(made.start)}–{format_clock(made.end)}: “{words}”")
    click.echo(made.slug)


@excerpt.command("list")
@click.option("--meeting", "meeting_slug", help="Only this meeting's excerpts.")
@click.pass_context
def excerpt_list(ctx: click.Context, meeting_slug: str | None) -> None:
    """Excerpts, newest first: slug, meeting, time, verified or not, title."""
    from sqlalchemy import select

    from archive.db.models import Excerpt, Meeting
    from archive.excerpts.manage import is_verified, quote

    with sessions_for(ctx, settings_from(ctx))() as session:
        query = select(Excerpt).join(Meeting).order_by(Excerpt.created_at.desc(), Excerpt.id.desc())
        if meeting_slug:
            query = query.where(Meeting.slug == meeting_slug)
        for item in session.scalars(query):
            words = quote(session, item.meeting_id, item.start, item.end)
            state = "verified" if is_verified(item, words) else "machine"
            click.echo(f"{item.slug}  {item.meeting.slug}  {format_clock(item.start)}  {state:<8}  {item.title}")


@excerpt.command("show")
@click.argument("excerpt_slug")
@click.pass_context
def excerpt_show(ctx: click.Context, excerpt_slug: str) -> None:
    """One excerpt as JSON (the API's shape)."""
    from archive.excerpts.manage import excerpt_document, find_excerpt

    with sessions_for(ctx, settings_from(ctx))() as session:
        click.echo(json.dumps(excerpt_document(session, find_excerpt(session, excerpt_slug)), indent=2))


@excerpt.command("verify")
@click.argument("excerpt_slug")
@click.option("--by", "verified_by", required=True, help="Who listened to the recording and confirms the words.")
@click.pass_context
def excerpt_verify(ctx: click.Context, excerpt_slug: str, verified_by: str) -> None:
    """Mark an excerpt verified against the recording (it lapses if its words are later edited)."""
    from archive.excerpts.manage import find_excerpt, verify

    with sessions_for(ctx, settings_from(ctx))() as session, session.begin():
        verify(session, find_excerpt(session, excerpt_slug), verified_by=verified_by)
    click.echo(f"{excerpt_slug}: verified against the recording by {verified_by}")


@excerpt.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--meeting", "meeting_slug", help="Only this meeting's excerpts.")
@click.pass_context
def excerpt_export(ctx: click.Context, fmt: str, meeting_slug: str | None) -> None:
    """Every excerpt (newest first) to stdout: JSON (the API's documents) or CSV (formula cells neutralised)."""
    from archive.publish.documents import excerpt_documents
    from archive.publish.formats import render_excerpts

    settings = settings_from(ctx)
    with sessions_for(ctx, settings)() as session:
        documents = excerpt_documents(session, meeting_slug=meeting_slug, base_url=settings.public_url)
        if not settings.public_url:  # said once the export is sure to happen, not before an error
            say("TESTIMONY_PUBLIC_URL is not set: the links are relative (/excerpts/…); set it for absolute links")
        click.echo(render_excerpts(documents, fmt), nl=False)
