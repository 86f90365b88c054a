"""Recordings into meetings: ingest, transcribe, diarize, and a person's review of the transcript."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from archive.cli.context import (
    engine_options,
    glossary_for,
    glossary_option,
    guided_settings,
    load_diarizer,
    load_transcriber,
    parse_date,
    progress_bar,
    say,
    sessions_for,
    settings_from,
)
from archive.errors import InvalidInput


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--body", required=True, help="The public body, e.g. 'Vermont Criminal Justice Council'.")
@click.option("--title", required=True, help="The meeting's title.")
@click.option("--date", "date_text", required=True, help="The meeting's date, YYYY-MM-DD.")
@click.option("--source-url", help="Where the recording was published.")
@click.option("--no-transcribe", is_flag=True, help="Store the recordings only.")
@click.option("--no-diarize", is_flag=True, help="Transcribe without finding the speakers.")
@click.option(
    "--background", is_flag=True, help="Store now; queue the transcription for `testimony worker` (prints the job)."
)
@engine_options
@glossary_option
@click.pass_context
def ingest(
    ctx: click.Context,
    files: tuple[Path, ...],
    body: str,
    title: str,
    date_text: str,
    source_url: str | None,
    no_transcribe: bool,
    no_diarize: bool,
    background: bool,
    glossary_file: Path | None,
    **engine: Any,
) -> None:
    """Store recordings as one meeting (idempotent by hash), transcribe them and find who speaks when;
    prints the meeting's slug last."""
    from archive.ingest.pipeline import MeetingInfo
    from archive.ingest.pipeline import ingest as run_ingest

    info = MeetingInfo(body=body, title=title, date=parse_date(date_text), source_url=source_url)
    if background and glossary_file:
        raise InvalidInput("--glossary guides a transcription made now; a background job takes the body's vocabulary")
    transcribe_now = not (no_transcribe or background)
    glossary = (
        glossary_for(ctx, settings_from(ctx, **engine), glossary_file, body=body or "") if transcribe_now else None
    )
    settings = guided_settings(ctx, engine, glossary)
    if background and no_transcribe:
        raise InvalidInput("--background queues the transcription: it cannot go with --no-transcribe")
    load = (lambda: load_transcriber(settings)) if transcribe_now else None
    diarizer = None if no_diarize else (lambda: load_diarizer(settings))
    sessions = sessions_for(ctx, settings, create=True)
    with progress_bar() as on_progress:
        result = run_ingest(
            sessions,
            settings,
            list(files),
            info,
            load_transcriber=load,
            load_diarizer=diarizer,
            report=say,
            on_progress=on_progress,
            glossary=glossary,
        )
    if background:
        from archive.worker.jobs import submit_transcription

        job, _ = submit_transcription(sessions, settings, result.slug, diarize=not no_diarize, created_by="cli")
        say(f"queued job {job.id}: `testimony worker` transcribes it; `testimony jobs list` shows its progress")
    click.echo(result.slug)


@click.command()
@click.argument("slug")
@engine_options
@glossary_option
@click.pass_context
def transcribe(ctx: click.Context, slug: str, glossary_file: Path | None, **engine: Any) -> None:
    """(Re)transcribe a meeting's recordings with the given engine and model."""
    from archive.ingest.pipeline import transcribe_meeting

    glossary = glossary_for(ctx, settings_from(ctx, **engine), glossary_file, slug=slug)
    settings = guided_settings(ctx, engine, glossary)
    sessions = sessions_for(ctx, settings)
    transcriber = load_transcriber(settings)
    with progress_bar() as on_progress:
        transcribe_meeting(
            sessions, settings, slug, transcriber, report=say, on_progress=on_progress, glossary=glossary
        )
    click.echo(slug)


@click.command()
@click.argument("slug")
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads (default: TESTIMONY_THREADS).")
@click.pass_context
def diarize(ctx: click.Context, slug: str, threads: int | None) -> None:
    """Find who speaks when in a meeting (again), attribute its segments and match known voices.

    Refused when a person has already identified one of the meeting's speakers: use `testimony speakers`.
    """
    from archive.ingest.pipeline import diarize_meeting

    settings = settings_from(ctx, threads=threads)
    sessions = sessions_for(ctx, settings)
    diarize_meeting(sessions, settings, slug, load_diarizer(settings), report=say)
    click.echo(slug)


@click.command()
@click.argument("slug")
@click.option("--by", "reviewer", help="Who checked the whole transcript against the recording.")
@click.option("--undo", is_flag=True, help="Mark the transcript unreviewed again (the machine's).")
@click.pass_context
def review(ctx: click.Context, slug: str, reviewer: str | None, undo: bool) -> None:
    """Mark a meeting's transcript reviewed by a person now (--by NAME), or unreviewed again (--undo).

    The meeting page and the JSON say so; a later re-transcription makes it unreviewed again.
    """
    from archive.curation.review import mark_reviewed, mark_unreviewed

    if undo == (reviewer is not None):
        raise InvalidInput("give either --by NAME (reviewed) or --undo (unreviewed)")
    with sessions_for(ctx, settings_from(ctx))() as session, session.begin():
        if undo:
            mark_unreviewed(session, slug)
            message = f"{slug}: the transcript is marked unreviewed (the machine's)"
        else:
            meeting = mark_reviewed(session, slug, by=reviewer or "")
            message = f"{slug}: the transcript is marked reviewed by {meeting.reviewed_by}"
    click.echo(message)
