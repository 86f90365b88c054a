"""A body's vocabulary from the command line: list, add and remove the terms that guide its transcriptions."""

from __future__ import annotations

import click

from archive.cli.context import sessions_for, settings_from


@click.command()
@click.argument("body")
@click.option("--add", "added", multiple=True, help='A term to add, optionally with a note: "Vergennes | a city".')
@click.option("--remove", "removed", multiple=True, help="A term to remove (any case).")
@click.option("--list", "listing", is_flag=True, help="Print the list and the prompt it gives (the default).")
@click.option("--by", "actor", default="cli", show_default=True, help="Who makes the change (the audit log).")
@click.pass_context
def vocabulary(
    ctx: click.Context, body: str, added: tuple[str, ...], removed: tuple[str, ...], listing: bool, actor: str
) -> None:
    """The vocabulary of BODY (its name or slug): names, places and agencies that guide the transcription of its
    meetings. With a list of its own, a body's meetings are transcribed guided by it, then by the people, roles,
    agenda titles and places the archive knows for it (docs/curation.md)."""
    from archive.curation.vocabulary import (
        add_terms,
        as_text,
        body_glossary,
        find_body,
        parse_entries,
        remove_terms,
        terms_of,
    )

    settings = settings_from(ctx)
    sessions = sessions_for(ctx, settings)
    with sessions() as session, session.begin():
        found = find_body(session, body)
        if added:
            done = add_terms(session, found, parse_entries("\n".join(added)), actor=actor)
            click.echo(f"{found.slug}: added {len(done)} term(s)", err=True)
        if removed:
            gone = remove_terms(session, found, list(removed), actor=actor)
            missing = len(removed) - len(gone)
            click.echo(
                f"{found.slug}: removed {len(gone)} term(s)" + (f"; {missing} not found" if missing else ""), err=True
            )
        name = found.name
        if listing or not (added or removed):
            session.flush()
            click.echo(as_text(terms_of(session, found)) or f"{found.slug}: no terms of its own (unguided)")
            glossary = body_glossary(session, name, settings.glossary_mode)
            if glossary is not None:
                click.echo(f"# prompt ({len(glossary.terms)} terms): {glossary.text}")
