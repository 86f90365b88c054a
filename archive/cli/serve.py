"""`testimony serve`: the site and the API behind a production WSGI server (archive.web.server)."""

from __future__ import annotations

import click

from archive.cli.context import say, settings_from
from archive.web.server import serve_home


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option(
    "--processes", type=click.IntRange(1, 64), default=None, help="Server processes  [default: one per CPU core]"
)
@click.option("--threads", "web_threads", type=click.IntRange(1, 64), default=4, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, processes: int | None, web_threads: int) -> None:
    """Serve the site and the API with a production WSGI server (gunicorn: processes × threads)."""
    serve_home(settings_from(ctx), host, port, processes, web_threads, say)
