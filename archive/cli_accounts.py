"""`testimony user …`: accounts from the command line (archive.accounts)."""

from __future__ import annotations

import click


@click.group()
def user() -> None:
    """Accounts: admins, curators and organizers."""
