"""Rendered public pages kept for visitors who are not signed in, so a busy day costs one rendering each.

A 500-line meeting page takes about 40 ms to render, a 2,000-line one about 110 ms; on a day a meeting is in
the news most visitors ask for the same few. A page is kept under (the site's address, its path, the arguments
the view reads, content_version, and for searches the index's own version), so any change to what it shows,
from any process, makes it stale at once (archive.db.version). Kept only when it is the same for every visitor:
the request carried no session cookie and rendering did not start a session (a page with a form's CSRF token
does). Pages are in the visitor's language (archive.web.languages): it is part of the key, and of Vary.

The pages are files in one folder that all of a server's processes share (`testimony serve` makes it at start
and removes it at exit, so a new version of the code or the settings never meets pages the old one rendered):
a page one process rendered, every process serves. The folder keeps to `page_cache_mb`, the least recently
used pages going first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, current_app, make_response, request, session
from werkzeug.datastructures import ImmutableMultiDict

from archive.web.context import content_version, locale

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeptPage:
    body: bytes
    status: int
    headers: list[tuple[str, str]]


class PageStore:
    """Kept pages as files named by a hash of their key; written whole (a rename), so never read half-written.

    A file's modification time is when it was last served or written: trimming removes the oldest first.
    Processes trim independently; a file another process removed first is simply gone.
    """

    def __init__(self, folder: Path, budget_bytes: int) -> None:
        self.folder = Path(folder)
        self.budget_bytes = budget_bytes
        self.folder.mkdir(parents=True, exist_ok=True)
        self._written = 0  # bytes this process wrote since it last trimmed the folder
        self._lock = threading.Lock()
        # The content version of the pages this process keeps now: each page's file name starts with it.
        self.generation = 0

    def move_to(self, generation: int) -> None:
        """The content changed (archive.db.version): the pages of earlier versions can never be served again, and
        may hold what a redaction now withholds, so they are removed at once rather than left for trim."""
        if generation == self.generation:
            return
        self.generation = generation
        try:
            entries = list(os.scandir(self.folder))
        except OSError:  # gone or unusable: nothing kept there to remove
            return
        for entry in entries:
            if not entry.name.startswith((".", f"{generation}-")):
                Path(entry.path).unlink(missing_ok=True)

    def get(self, key: tuple[object, ...]) -> KeptPage | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
            os.utime(path, ns=(time.time_ns(), time.time_ns()))  # recently used
        except OSError:  # not kept (or the folder is unusable: then the page is rendered)
            return None
        length = int.from_bytes(data[:4], "big")
        header = json.loads(data[4 : 4 + length])
        if header["key"] != repr(key):  # a hash collision: as good as absent
            return None
        return KeptPage(data[4 + length :], header["status"], [tuple(pair) for pair in header["headers"]])

    def put(self, key: tuple[object, ...], page: KeptPage) -> None:
        if len(page.body) > self.budget_bytes // 4:  # one giant page must not empty the store
            return
        header = json.dumps({"key": repr(key), "status": page.status, "headers": page.headers}).encode()
        temporary = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)  # someone may have cleared it
            descriptor, temporary = tempfile.mkstemp(dir=self.folder, prefix=".writing-")
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(len(header).to_bytes(4, "big") + header + page.body)
            os.replace(temporary, self._path(key))
        except OSError as error:  # a full disk costs the next visitor a rendering, never this one their page
            log.warning("could not keep a page in %s: %s", self.folder, error)
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)
            return
        with self._lock:
            self._written += len(page.body)
            due = self._written > self.budget_bytes // 8
            if due:
                self._written = 0
        if due:
            self.trim()

    def trim(self) -> None:
        """Over budget: remove the least recently used pages until a quarter of the budget is free."""
        pages = []
        try:
            entries = list(os.scandir(self.folder))
        except FileNotFoundError:
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                found = entry.stat()
            except FileNotFoundError:
                continue
            pages.append((found.st_mtime_ns, found.st_size, entry.path))
        total = sum(size for _, size, _ in pages)
        if total <= self.budget_bytes:
            return
        for _, size, path in sorted(pages):
            Path(path).unlink(missing_ok=True)
            total -= size
            if total <= self.budget_bytes * 3 // 4:
                break

    def _path(self, key: tuple[object, ...]) -> Path:
        return self.folder / f"{self.generation}-{hashlib.sha256(repr(key).encode()).hexdigest()}"


# Kept pages need no disk: in memory where the system offers it. On this project's test machine, creating a
# file in /tmp took 0.02–0.7 ms depending on what the disk was doing (0.7 ms is a tenth of a search page);
# in /dev/shm, 0.015 ms.
MEMORY_FOLDER = Path("/dev/shm")


def new_pages_folder() -> Path:
    """A new, empty folder for one server's kept pages: under TMPDIR when it is set (the operator's choice),
    else in /dev/shm when it is usable, else in the system's temporary folder."""
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=_pages_parent()))


PREFIX = "testimony-pages-"  # then the process id of the server that made the folder


def _pages_parent() -> str:
    if os.environ.get("TMPDIR"):
        return os.environ["TMPDIR"]
    usable = MEMORY_FOLDER.is_dir() and os.access(MEMORY_FOLDER, os.W_OK | os.X_OK)
    return str(MEMORY_FOLDER) if usable else tempfile.gettempdir()


def remove_abandoned_folders() -> int:
    """Remove the kept pages of servers that were killed (a SIGKILL, a crash) and so never removed them: folders
    of this user whose process is gone. In /dev/shm they hold memory until the machine restarts."""
    parent = Path(_pages_parent())
    removed = 0
    for folder in parent.glob(f"{PREFIX}*"):
        pid = folder.name.removeprefix(PREFIX).split("-", 1)[0]
        try:
            if folder.stat().st_uid != os.getuid() or not pid.isdigit() or _alive(int(pid)):
                continue
        except OSError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process with that id
        return True
    return True


def keep_meeting_pages(app: Flask, base_url: str, seconds: float) -> tuple[int, int]:
    """Render meeting pages into the kept pages before a server takes requests, newest meeting first, for at
    most `seconds`; (pages kept, meetings). `testimony serve` runs it once, in the process that then forks.

    After a start, the first visitors ask for many meetings at once, and rendering each one (20–65 ms) holds up
    every request behind it: on the site benchmark, the first seconds made a cold start's p95 two to four times
    a warm one's. Pages are kept under their full address (see kept_for_visitors), so base_url must be the
    one visitors use: the public address, or the server's own.
    """
    from sqlalchemy import select

    from archive.db.models import Meeting

    deadline = time.monotonic() + seconds
    with app.extensions["sessions"]() as reading:
        slugs = reading.scalars(select(Meeting.slug).order_by(Meeting.date.desc(), Meeting.id.desc())).all()
    client = app.test_client(use_cookies=False)  # a visitor without a session, whose pages are kept
    kept = 0
    for slug in slugs:
        if time.monotonic() >= deadline:
            break
        kept += client.get(f"/meetings/{quote(slug)}", base_url=base_url).status_code == 200
    return kept, len(slugs)


def canonical_arguments(parameters: Sequence[str]) -> list[tuple[str, str]]:
    """The query's arguments a view reads, in a fixed order (the first value of each, as the view reads it)."""
    return [(name, request.args[name]) for name in sorted(parameters) if name in request.args]


def kept_for_visitors(
    *, uses_index: bool = False, parameters: Sequence[str] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Serve this GET view from the page store for visitors without a session; uses_index: it reads the index.

    parameters: the query arguments the view reads. For every visitor (signed in or not) the view sees only these,
    so the page is keyed by a canonical form of its address: the path and these arguments, sorted. Any other
    argument (`?utm_source=…`, `?x=<random>`) changes nothing and costs no rendering: cache-busting does not work.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            arguments = canonical_arguments(parameters)
            if len(arguments) != len(request.args):
                request.args = ImmutableMultiDict(arguments)  # what the view may read
            store: PageStore | None = current_app.extensions.get("page_cache")
            if store is None:
                return view(*args, **kwargs)
            # The content version first: what the view reads next is at least this new (archive.db.version).
            # Read for every visitor, so that the first request after a change, anyone's, removes stale pages.
            content = content_version()
            store.move_to(content)
            if current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
                return view(*args, **kwargs)
            # The site's address: pages hold links made from it (the request's host when none is configured).
            site = (current_app.config["TESTIMONY"].public_url or request.host_url).rstrip("/")
            # The visitor's language too: an English visitor never gets a page kept for a Spanish one.
            key: tuple[object, ...] = (site, request.path, tuple(arguments), locale(), content)
            if uses_index:
                key += (current_app.extensions["search"].version(),)
            kept = store.get(key)
            if kept is not None:
                response = current_app.response_class(kept.body, status=kept.status, headers=kept.headers)
            else:
                response = make_response(view(*args, **kwargs))
                same_for_everyone = response.status_code == 200 and not response.direct_passthrough
                if same_for_everyone and not session.modified:
                    store.put(key, KeptPage(response.get_data(), 200, list(response.headers.items())))
            # One answer for every visitor without a session in one language; shared caches must not give it to
            # signed-in people (Cookie) nor to a visitor of another language (Accept-Language, the switch's cookie).
            response.vary.add("Cookie")
            response.vary.add("Accept-Language")
            return response

        return wrapper

    return decorate
