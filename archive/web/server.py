"""Serving the site in production: gunicorn's threaded workers, each process with its own application made after
the fork, the collector tuned for a server, and the newest meetings' pages kept before the first request."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from archive.config import Settings
from archive.web.app import build_app
from archive.web.page_cache import keep_meeting_pages, new_pages_folder, remove_abandoned_folders

Report = Callable[[str], None]
log = logging.getLogger(__name__)


SERVER_GC_THRESHOLDS = (50_000, 20, 20)


def server_app(settings: Settings, pages_folder: Path) -> Flask:
    """The application as one server process runs it: ready before its first request."""
    app = build_app(settings, pages_folder)
    try:
        app.extensions["search"].warm()  # before the first request, not during it
    except Exception:  # a damaged index: searches answer 503 until `testimony reindex`, every other page works
        log.warning("the search index cannot be read: run `testimony reindex`", exc_info=True)
    # Python's cycle collector, tuned for a server: what the app loaded is set aside for good (gc.freeze), and
    # collections come every 50,000 allocations, not 700. A 2,000-line meeting page allocates some 100,000
    # objects; with the defaults, collecting took 60% of its rendering (265 ms against 106).
    gc.freeze()
    gc.set_threshold(*SERVER_GC_THRESHOLDS)
    return app


# Limits gunicorn applies while it reads a request, before the app sees it (each refusal a 400 or 431). Without
# them (limit_request_line 0), a 20 MiB address cost a process ~40 CPU-seconds; the request line is capped at
# gunicorn's largest finite value, which holds a 500-character search (the part a search uses) in any script.
REQUEST_LIMITS = {
    "limit_request_line": 8190,
    "limit_request_fields": 100,
    "limit_request_field_size": 8190,
}


def close_after_refusal(worker: Any, request: Any, environ: dict[str, Any], response: Any) -> None:
    """gunicorn's post_request hook: after a request with a body is refused (a 413, a CSRF error), close the
    connection rather than keep it alive, which would make gunicorn read and discard the rest of the body first."""
    has_body = request.method not in ("GET", "HEAD", "OPTIONS")
    if has_body and (getattr(response, "status_code", None) or 500) >= 400:
        request.must_close = True


# Addresses that listen on every interface: visitors reach the server by a name it cannot know.
EVERY_INTERFACE = ("0.0.0.0", "::", "")


def warn_about_the_index(settings: Settings, report: Report) -> None:
    """At start, in a sentence: a missing or damaged search index (searches then answer 503, the rest works)."""
    from archive.home import open_home
    from archive.search.index import index_problem, open_backend

    sessions = open_home(settings)
    try:
        with sessions() as session:
            problem = index_problem(open_backend(settings), session)
    finally:
        sessions.kw["bind"].dispose()
    if problem:
        report(f"warning: {problem} Until then, searches answer 503; every other page is served.")


def keep_pages_at_start(settings: Settings, pages: Path, host: str, port: int, report: Report) -> None:
    """The newest meetings' pages, kept before the processes start (archive.web.page_cache.keep_meeting_pages).
    Here, in the server's own process: its application and connections are closed before the processes fork."""
    if settings.warm_seconds <= 0 or settings.page_cache_mb <= 0:
        return
    own = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"  # an IPv6 address in brackets
    base_url = settings.public_url or ("" if host in EVERY_INTERFACE else own)
    if not base_url:
        report(f"no meeting pages kept at start: set TESTIMONY_PUBLIC_URL, the address visitors use for {host}")
        return

    began = time.monotonic()
    app = build_app(settings, pages)
    try:
        kept, meetings = keep_meeting_pages(app, base_url, settings.warm_seconds)
    finally:
        app.extensions["sessions"].kw["bind"].dispose()
        getattr(app.extensions["search"], "close", lambda: None)()
    report(f"kept the pages of {kept} of {meetings} meetings in {time.monotonic() - began:.1f} s, newest first")


def serve_home(settings: Settings, host: str, port: int, processes: int | None, threads: int, report: Report) -> None:
    """gunicorn's threaded workers, each process with its own application (made after the fork: database
    connections and index files are never shared between processes). Python runs one thread at a time per
    process, so more processes, not more threads, is what uses more cores."""
    from gunicorn.app.base import BaseApplication

    workers = processes or len(os.sched_getaffinity(0))
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread" if threads > 1 else "sync",
        "threads": threads,
        "accesslog": None,
        "errorlog": "-",
        "keepalive": 5,
        "timeout": 120,  # seconds a worker may go silent (an upload streaming to disk keeps it busy, not silent)
        **REQUEST_LIMITS,
        "post_request": close_after_refusal,
    }

    # A killed server's kept pages are still in /dev/shm (memory): gone before this one makes its own.
    if removed := remove_abandoned_folders():
        report(f"removed the kept pages of {removed} server(s) that stopped without removing them")
    warn_about_the_index(settings, report)
    # One folder of kept pages for all the processes, new at each start: pages a process renders, all serve.
    pages = new_pages_folder()
    master = os.getpid()
    keep_pages_at_start(settings, pages, host, port, report)

    class Server(BaseApplication):
        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self) -> Flask:
            return server_app(settings, pages)

    report(
        f"serving {settings.home.resolve()} at http://{host}:{port}/ with {workers} processes × {threads} threads"
        " (Ctrl-C stops)"
    )
    try:
        Server().run()
    finally:
        if os.getpid() == master:  # a worker leaves through here too when it stops; only the server removes it
            shutil.rmtree(pages, ignore_errors=True)
