"""The Whoosh index's vocabulary: the words of the published text as written (the `words` field, not stemmed),
read once per index version, for "Did you mean …" (archive.search.spelling)."""

from __future__ import annotations

import threading
from typing import Any

from whoosh import query as q

from archive.search.spelling import did_you_mean

FIELD = "words"
_newest: list[tuple[object, dict[str, int]]] = []  # (index version, its vocabulary): one index per process
_lock = threading.Lock()


def vocabulary(searcher: Any, version: object) -> dict[str, int]:
    """word → segments holding it (deleted documents may still count until the next merge)."""
    with _lock:
        if _newest and _newest[0][0] == version:
            return _newest[0][1]
    reader = searcher.reader()
    words: dict[str, int] = {}
    if FIELD in reader.indexed_field_names():
        for text, info in reader.iter_field(FIELD):
            words[text if isinstance(text, str) else text.decode("utf-8")] = info.doc_frequency()
    with _lock:
        _newest[:] = [(version, words)]
    return words


def suggestion(searcher: Any, version: object, text: str) -> str | None:
    """The query with its unknown words corrected, when every corrected word is in a live (not deleted) segment."""
    corrected = did_you_mean(text, vocabulary(searcher, version))
    if corrected is None:
        return None
    old = {w.lower() for w in text.split()}
    for word in (w.lower() for w in corrected.split() if w.lower() not in old):
        if searcher.search(q.Term(FIELD, word), limit=1).is_empty():
            return None
    return corrected
