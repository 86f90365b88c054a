""" "Did you mean …": a query's unknown words corrected from the index's own vocabulary (the words it holds).

Both backends give their vocabulary (word → segments holding it, published text only: a withheld word is not in
the index, so it can never be suggested), and a query that found nothing gets the closest known words instead of
its unknown ones: the fewest edits (Levenshtein, at most two; one for short words), then the commoner word.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import extract
from whoosh.support.charset import accent_map

# A word of the query that may be corrected: letters only (numbers, field:value and operators are left alone).
_WORD = re.compile(r"(?<![\w:])([^\W\d_]{3,})(?![\w:*])")
_OPERATORS = frozenset({"and", "or", "not", "to"})
CANDIDATES = 25  # closest words looked at per unknown word


def folded(word: str) -> str:
    """As both indexes hold a word: lower case, accents folded ("José" is "jose")."""
    return word.lower().translate(accent_map)


def did_you_mean(query: str, vocabulary: Mapping[str, int]) -> str | None:
    """The query with each unknown word replaced by the closest known one; None when nothing could be corrected."""
    if not vocabulary:
        return None
    words = list(vocabulary)
    changed = False

    def correct(match: re.Match[str]) -> str:
        nonlocal changed
        word = match.group(1)
        key = folded(word)
        if key in vocabulary or key in _OPERATORS:
            return word
        limit = 1 if len(key) <= 4 else 2
        close = extract(key, words, scorer=Levenshtein.distance, score_cutoff=limit, limit=CANDIDATES)
        if not close:
            return word
        best = min(close, key=lambda found: (found[1], -vocabulary[found[0]], found[0]))[0]
        changed = True
        return best

    corrected = _WORD.sub(correct, query)
    return corrected if changed else None
