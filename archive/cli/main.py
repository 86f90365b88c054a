"""The `testimony` command: a click group whose subcommands, each in the module of its area, are thin calls into
the layers below."""

from __future__ import annotations

from pathlib import Path

import click

from archive import __version__
from archive.cli.accounts import user
from archive.cli.campaigns import campaign
from archive.cli.context import ArchiveGroup
from archive.cli.demo import demo
from archive.cli.excerpts import excerpt
from archive.cli.home import check, config, dump, init, reindex
from archive.cli.ingest import diarize, ingest, mix, models, review, transcribe
from archive.cli.jobs import jobs
from archive.cli.legislators import legislators
from archive.cli.operations import backup, restore
from archive.cli.privacy import privacy
from archive.cli.search import export, search
from archive.cli.serve import serve
from archive.cli.speakers import people, speakers
from archive.cli.vocabulary import vocabulary
from archive.cli.worker import outbox, worker


@click.group(cls=ArchiveGroup)
@click.version_option(__version__, prog_name="testimony")
@click.option(
    "--home", type=click.Path(file_okay=False, path_type=Path), help="Archive home (default: TESTIMONY_HOME or .)."
)
@click.pass_context
def main(ctx: click.Context, home: Path | None) -> None:
    """Testimony Archive: transcribe, index and publish public-meeting testimony."""
    ctx.obj = {"home": home}


for command in (
    init,
    config,
    ingest,
    transcribe,
    diarize,
    mix,
    review,
    export,
    search,
    reindex,
    serve,
    check,
    demo,
    speakers,
):
    main.add_command(command)
for command in (
    people,
    legislators,
    vocabulary,
    excerpt,
    dump,
    user,
    campaign,
    worker,
    outbox,
    jobs,
    backup,
    restore,
    privacy,
    models,
):
    main.add_command(command)

if __name__ == "__main__":
    main()
