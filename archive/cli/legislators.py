"""`testimony legislators …`: the directory supporters find their legislators in."""

from __future__ import annotations

from pathlib import Path

import click

from archive.cli.context import ArchiveGroup, say, sessions_for, settings_from


@click.group(cls=ArchiveGroup)
def legislators() -> None:
    """The legislator directory supporters find their legislators in (Vermont's ships with the archive)."""


@legislators.command("import")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--towns",
    "towns_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A CSV of town,chamber,district rows, for finding legislators by town (default without FILE: the bundled"
    " Vermont towns).",
)
@click.option(
    "--expect-seats",
    metavar="HOUSE,SENATE",
    help="The seats each chamber must have (default: Vermont's, 150,30).",
)
@click.pass_context
def legislators_import(
    ctx: click.Context, file: Path | None, towns_file: Path | None, expect_seats: str | None
) -> None:
    """Replace the directory with FILE (default: the bundled Vermont legislators and their towns), validated
    whole: any bad row refuses the file and the directory stays as it was."""
    from archive.legislators import (
        VERMONT_FILE,
        VERMONT_SEATS,
        VERMONT_TOWNS,
        parse_seats,
        read_legislators,
        read_towns,
        replace_directory,
    )

    path = file or VERMONT_FILE
    if file is None and towns_file is None:
        towns_file = VERMONT_TOWNS  # the bundled legislators come with their towns
    rows = read_legislators(path, parse_seats(expect_seats) if expect_seats else VERMONT_SEATS)
    towns = read_towns(towns_file, rows) if towns_file else None
    with sessions_for(ctx, settings_from(ctx))() as session, session.begin():
        made = replace_directory(session, rows, towns)
    districts = made.districts
    click.echo(
        f"imported {made.house + made.senate} legislators from {path.name}: {made.house} House in"
        f" {districts['house']} districts, {made.senate} Senate in {districts['senate']} districts"
    )
    if made.towns_replaced or made.towns:
        kept = "" if made.towns_replaced else " (kept from before: no --towns given)"
        click.echo(f"{made.towns} town rows{kept}")
    else:
        say("no towns file: finding legislators by town is off until one is imported (--towns FILE)")


@legislators.command("list")
@click.option("--chamber", type=click.Choice(["house", "senate"]), help="Only this chamber.")
@click.option("--district", help="Only this district, e.g. Chittenden-15.")
@click.pass_context
def legislators_list(ctx: click.Context, chamber: str | None, district: str | None) -> None:
    """The directory: chamber, district, name, party, email."""
    from archive.legislators import list_legislators

    with sessions_for(ctx, settings_from(ctx))() as session:
        people = list_legislators(session, chamber=chamber, district=district)
    if not people:
        click.echo("no legislators match (load the directory: testimony legislators import)", err=True)
    for person in people:
        click.echo("  ".join([person.chamber, person.district, person.name, person.party or "-", person.email or "-"]))


# --- excerpts ------------------------------------------------------------------------------------------------
