"""`testimony campaign …`: campaigns from the command line (archive.campaigns)."""

from __future__ import annotations

import click


@click.group()
def campaign() -> None:
    """Letter-writing campaigns."""
