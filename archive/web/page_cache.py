"""Rendered public pages kept for visitors who are not signed in, so a busy day costs one rendering each.

A 2,000-line meeting page takes tens of milliseconds to render, a search page some more; on a day a meeting
is in the news most visitors ask for the same few. A page is kept under (its full URL, content_version, and
for searches the index's own version), so any change to what it shows, from any process, makes it stale at
once (archive.db.version). Kept only when it is the same for every visitor: the request carried no session
cookie and rendering did not start a session (a page with a form's CSRF token does). Each server process
keeps its own, up to `page_cache_mb`, the least recently used going first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import current_app, make_response, request, session

from archive.db import version


@dataclass(frozen=True)
class KeptPage:
    body: bytes
    status: int
    headers: list[tuple[str, str]]


class PageCache:
    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._lock = threading.Lock()
        self._pages: OrderedDict[tuple[object, ...], KeptPage] = OrderedDict()
        self._bytes = 0

    def get(self, key: tuple[object, ...]) -> KeptPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple[object, ...], page: KeptPage) -> None:
        if len(page.body) > self.budget_bytes // 4:  # one giant page must not empty the cache
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._pages[key] = page
            self._bytes += len(page.body)
            while self._bytes > self.budget_bytes:
                _, dropped = self._pages.popitem(last=False)
                self._bytes -= len(dropped.body)


def kept_for_visitors(*, uses_index: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Serve this GET view from the page cache for visitors without a session; uses_index: it reads the index."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from archive.web.api import db

            cache: PageCache | None = current_app.extensions.get("page_cache")
            if cache is None or current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
                return view(*args, **kwargs)
            # The content version first: what the view reads next is at least this new (archive.db.version).
            key: tuple[object, ...] = (request.url, version.current(db()))
            if uses_index:
                key += (current_app.extensions["search"].version(),)
            kept = cache.get(key)
            if kept is not None:
                response = current_app.response_class(kept.body, status=kept.status, headers=kept.headers)
            else:
                response = make_response(view(*args, **kwargs))
                same_for_everyone = response.status_code == 200 and not response.direct_passthrough
                if same_for_everyone and not session.modified:
                    cache.put(key, KeptPage(response.get_data(), 200, list(response.headers.items())))
            # One answer for every visitor without a session; shared caches must not give it to signed-in people.
            response.vary.add("Cookie")
            return response

        return wrapper

    return decorate
