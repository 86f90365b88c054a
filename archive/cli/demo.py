"""`testimony demo`: the bundled demo meeting (archive/demo/) ingested, transcribed, named, indexed and served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from archive.cli.context import (
    engine_options,
    load_diarizer,
    load_transcriber,
    parse_date,
    progress_bar,
    say,
    sessions_for,
)
from archive.config import Settings
from archive.demo.voices import DEMO_DIR, RECORDING, meeting_details, name_demo_voices
from archive.errors import ArchiveError
from archive.web.server import serve_home


@click.command()
@click.option(
    "--home",
    "demo_home",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-home"),
    show_default=True,
)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--no-serve", is_flag=True, help="Stop after printing the transcript.")
@engine_options
@click.pass_context
def demo(ctx: click.Context, demo_home: Path, port: int, no_serve: bool, **engine: Any) -> None:
    """The main job on embedded defaults: the bundled demo meeting ingested, transcribed, indexed and served."""
    from archive.ingest.pipeline import MeetingInfo
    from archive.ingest.pipeline import ingest as run_ingest
    from archive.publish.documents import meeting_document
    from archive.publish.formats import render

    if not RECORDING.exists():
        raise ArchiveError(f"{RECORDING}: the demo recording is missing (rebuild it: python {DEMO_DIR}/make_demo.py)")
    meta = meeting_details()
    settings = Settings.from_env(home=demo_home, **{"database_url": "", **engine})
    sessions = sessions_for(ctx, settings, create=True)
    info = MeetingInfo(
        body=meta["body"], title=meta["title"], date=parse_date(meta["date"]), source_url=meta.get("source_url")
    )
    say(f"demo home: {demo_home.resolve()} (a synthetic re-enactment, made with espeak-ng voices)")
    with progress_bar() as on_progress:
        result = run_ingest(
            sessions,
            settings,
            [RECORDING],
            info,
            load_transcriber=lambda: load_transcriber(settings),
            load_diarizer=lambda: load_diarizer(settings),
            report=say,
            on_progress=on_progress,
        )
    name_demo_voices(sessions, result.slug, say)
    with sessions() as session:
        click.echo(render(meeting_document(session, result.slug), "txt"), nl=False)
    click.echo(result.slug)
    if not no_serve:
        say(f"open http://127.0.0.1:{port}/meetings/{result.slug}")
        serve_home(settings, "127.0.0.1", port, None, 4, say)
