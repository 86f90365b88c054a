""" "Did you mean …" on Whoosh (archive.search.spelling): from the index's own lexicon, with nothing added to the index.

The text field holds stems ("illegally" is "illeg"), so a misspelt word is matched against the stems near its own
stem, and each candidate stem is read back as the words live documents actually say ("illegal", "illegally"); the
closest of those wins, the commoner stem on a tie. Stems are read once per index version; only live documents are
read, so a word no published segment says (a redacted one, say) is never offered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import extract
from whoosh import query as q

from archive.search.spelling import correct_words, folded

CANDIDATE_STEMS = 20  # stems near the word's own stem, read back as words
DOCUMENTS_READ = 3  # documents read per candidate stem for the words that make it
_newest: list[tuple[object, dict[str, int]]] = []  # (index version, stem → documents): one index per process
_lock = threading.Lock()


def _stems(searcher: Any, version: object) -> dict[str, int]:
    with _lock:
        if _newest and _newest[0][0] == version:
            return _newest[0][1]
    reader = searcher.reader()
    stems = {
        (text if isinstance(text, str) else text.decode("utf-8")): info.doc_frequency()
        for text, info in reader.iter_field("text")
    }
    with _lock:
        _newest[:] = [(version, stems)]
    return stems


def suggestion(searcher: Any, version: object, text: str, stem: Callable[[str], str], expression: Any) -> str | None:
    """The query with each unknown word replaced by the closest word live documents say, or None."""
    stems = _stems(searcher, version)
    names = list(stems)

    def closest(word: str, limit: int) -> str | None:
        own = stem(word)
        if own in stems:
            return None  # a known word (another form of it is indexed)
        near = extract(own, names, scorer=Levenshtein.distance, score_cutoff=limit + 2, limit=CANDIDATE_STEMS)
        best: tuple[int, int, str] | None = None
        for candidate, _distance, _index in near:
            results = searcher.search(q.Term("text", candidate), limit=DOCUMENTS_READ)
            said = {folded(m.group()) for hit in results for m in expression.finditer(hit.get("text", ""))}
            for surface in (w for w in said if stem(w) == candidate):
                distance = Levenshtein.distance(word, surface)
                if distance <= limit:
                    key = (distance, -stems[candidate], surface)
                    best = key if best is None or key < best else best
        return best[2] if best is not None else None

    return correct_words(text, closest)
