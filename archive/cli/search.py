"""Reading the archive from a terminal: search, and one meeting exported."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from archive.cli.context import parse_date, say, sessions_for, settings_from
from archive.db.models import SEGMENT_KINDS
from archive.timecodes import format_clock


@click.command()
@click.argument("slug")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "txt", "vtt", "srt", "csv", "rttm"]), default="txt", show_default=True
)
@click.option("--lang", "language", help="Only the lines in this language (ISO 639-1: en, es).")
@click.pass_context
def export(ctx: click.Context, slug: str, fmt: str, language: str | None) -> None:
    """Write one meeting's transcript to stdout (JSON: each segment's language, the meeting's gaps)."""
    from archive.publish.documents import meeting_document
    from archive.publish.formats import render

    sessions = sessions_for(ctx, settings_from(ctx))
    with sessions() as session:
        click.echo(render(meeting_document(session, slug), fmt, language), nl=False)


@click.command()
@click.argument("query")
@click.option("--speaker", help="Only this speaker (exact name).")
@click.option("--kind", type=click.Choice(SEGMENT_KINDS), help="Only this kind of segment.")
@click.option("--meeting", help="Only this meeting (slug).")
@click.option("--lang", "language", help="Only segments in this language (ISO 639-1: en, es).")
@click.option("--from", "date_from", help="Meetings on or after this date, YYYY-MM-DD.")
@click.option("--to", "date_to", help="Meetings on or before this date, YYYY-MM-DD.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
@click.pass_context
def search(ctx: click.Context, query: str, as_json: bool, limit: int, **filters: Any) -> None:
    """Search the testimony: words, "phrases", OR, -exclusion, prefix*, speaker:, kind:, lang:, date:.

    Words are matched as English and as Spanish (stems, accents folded): "trabajar" finds "trabajadores"."""
    from archive.search import SearchRequest
    from archive.search.index import open_backend
    from archive.search.index import search as run_search

    settings = settings_from(ctx)
    request = SearchRequest(
        q=query,
        speaker=filters["speaker"],
        kind=filters["kind"],
        meeting=filters["meeting"],
        language=filters["language"].strip().lower() if filters["language"] else None,
        date_from=parse_date(filters["date_from"], "--from") if filters["date_from"] else None,
        date_to=parse_date(filters["date_to"], "--to") if filters["date_to"] else None,
        sort=filters["sort"],
        page=filters["page"],
        per_page=limit,
    )
    sessions = sessions_for(ctx, settings)  # a clear error when there is no archive here
    with sessions() as session:
        page = run_search(open_backend(settings), session, request)
    if as_json:
        click.echo(json.dumps(page.to_json(), ensure_ascii=False, indent=1))
        return
    if page.message:
        say(page.message)
    click.echo(f"{page.total_text.capitalize()}; page {page.page} of {page.pages}")
    for hit in page.hits:
        who = hit.speaker_name or "unnamed speaker"
        click.echo(
            f"{format_clock(hit.start):>8}  {hit.meeting_date}  {hit.meeting_slug}  {who}\n"
            f"          {terminal_snippet(hit.highlight)}"
        )
        # An interpreter's line with the words it interprets, testimony with its interpretation (confirmed links).
        for label, line in [("original", o) for o in hit.originals] + [
            ("interpretation", i) for i in hit.interpretations
        ]:
            click.echo(f"          {label} ({line.language or '?'}, {format_clock(line.start)}): {line.text}")


def terminal_snippet(highlight: str) -> str:
    """The API's HTML snippet for a terminal: matches in bold (or «» when not a terminal), entities decoded."""
    import html
    import re

    bold = sys.stdout.isatty()
    marked = re.sub(
        r"<mark>(.*?)</mark>",
        lambda m: click.style(m.group(1), bold=True) if bold else f"«{m.group(1)}»",
        highlight,
    )
    return html.unescape(marked)
