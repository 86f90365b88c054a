"""Backups and restores of an archive home (archive.operations.backup, .restore)."""

from __future__ import annotations

from pathlib import Path

import click

from archive.cli.context import progress_bar, say, settings_from


@click.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, dest: Path) -> None:
    """Back up the archive into DEST while it serves: the database as of one moment, then its files by hash (a
    second backup into the same DEST copies only new files); prints the snapshot's path last."""
    from archive.operations.backup import backup as run_backup

    settings = settings_from(ctx)
    with progress_bar(unit="B") as on_progress:
        made = run_backup(settings, dest, on_progress=on_progress)
    say(
        f"{made.files} files ({made.total_bytes / 1e6:.1f} MB with the database); {made.copied} new"
        f" ({made.copied_bytes / 1e6:.1f} MB copied); the search index is left out: it is rebuilt on restore"
    )
    click.echo(made.snapshot)


@click.command()
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--purge-log",
    "log",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The purge log to re-apply (default: TESTIMONY_PURGE_LOG, or where the backed-up archive kept it).",
)
@click.option("--without-purge-log", is_flag=True, help="Restore without one: only if nothing was ever purged.")
@click.pass_context
def restore(ctx: click.Context, source: Path, log: Path | None, without_purge_log: bool) -> None:
    """Restore a backup (a backup folder's newest snapshot, or one snapshot) into an empty home; re-apply the purges,
    consent changes and redactions made since; rebuild the search index; check the result."""
    from archive.operations.restore import restore as run_restore

    settings = settings_from(ctx)
    with progress_bar(unit="B") as on_progress:
        done = run_restore(settings, source, log=log, without_purge_log=without_purge_log, on_progress=on_progress)
    say(f"restored {done.snapshot.name} (made {done.created_at:%Y-%m-%d %H:%M} UTC): {done.files} files")
    if done.purge_log is None:
        say("no purge log re-applied (--without-purge-log)")
    else:
        say(
            f"purge log {done.purge_log}: {len(done.reapplied.done)} change(s) made since the backup re-applied,"
            f" {done.reapplied.already} already held; {done.reapplied.files_removed} file(s) removed"
        )
        for line in done.reapplied.done:
            say(f"  re-applied: {line}")
    say(f"indexed {done.indexed} segments")
    for problem in done.problems:
        click.echo(problem)
    if done.problems:
        click.echo(f"{len(done.problems)} problem(s) found by testimony check", err=True)
        ctx.exit(1)
    click.echo("archive is consistent")
