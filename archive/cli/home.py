"""The home and the whole archive: init, config, reindex, check and the bulk dump."""

from __future__ import annotations

from pathlib import Path

import click

from archive.cli.context import say, sessions_for, settings_from


@click.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the home's folders and database (runs migrations)."""
    settings = settings_from(ctx)
    sessions_for(ctx, settings, create=True)
    click.echo(f"archive ready in {settings.home.resolve()}")


@click.command()
@click.pass_context
def config(ctx: click.Context) -> None:
    """Print every setting, its value (secrets masked) and what it does."""
    for variable, value, help_text in settings_from(ctx).describe():
        click.echo(f"{variable}={value}\n    {help_text}")


@click.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the search index from the database; the old index serves until the new one is complete."""
    from archive.search.index import open_backend, rebuild

    settings = settings_from(ctx)
    with sessions_for(ctx, settings)() as session:
        count = rebuild(open_backend(settings), session)
    click.echo(f"indexed {count} segments")


@click.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Integrity: every row's files exist with the right hash, nothing orphaned; exit 1 with a list when not.

    Also lists speech that transcription heard and could not transcribe (it does not change the exit status)."""
    from archive.operations.check import check_archive, untranscribed_speech

    settings = settings_from(ctx)
    with sessions_for(ctx, settings)() as session:
        problems = check_archive(session, settings)
        missing = untranscribed_speech(session)
    for line in missing:
        click.echo(f"speech not transcribed: {line}")
    if missing:  # words missing from the record, not an inconsistency: the exit status stays 0
        click.echo(f"{len(missing)} stretch(es) of speech not transcribed", err=True)
    for problem in problems:
        click.echo(problem)
    if problems:
        click.echo(f"{len(problems)} problem(s) found", err=True)
        ctx.exit(1)
    click.echo("archive is consistent")


@click.command()
@click.argument("out_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--zip", "make_zip", is_flag=True, help="Also write OUT_DIR.zip (always done without OUT_DIR).")
@click.pass_context
def dump(ctx: click.Context, out_dir: Path | None, make_zip: bool) -> None:
    """Write the whole public archive as JSON Lines with a manifest, for researchers; prints its path last.

    Without OUT_DIR: a new dump under <home>/dumps/ and its zip, which the site offers at /downloads.
    """
    from archive.publish.bulk import DUMPS, dump_name, write_dump, write_zip

    settings = settings_from(ctx)
    if out_dir is None:
        out_dir, make_zip = settings.home / DUMPS / dump_name(), True
    if not settings.public_url:
        say("TESTIMONY_PUBLIC_URL is not set: the dump's links are relative (/meetings/…); set it for absolute links")
    with sessions_for(ctx, settings)() as session:
        made = write_dump(session, out_dir, site_name=settings.site_name, site_url=settings.public_url.rstrip("/"))
    counts = made.manifest["counts"]
    say(", ".join(f"{count} {name}" for name, count in counts.items()) + f" in {made.path}")
    if make_zip:
        made_zip = write_zip(made.path, made.path.with_name(f"{made.path.name}.zip"))
        say(f"zipped: {made_zip}")
        click.echo(made_zip)
    else:
        click.echo(made.path)
