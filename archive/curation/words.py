"""Word timings for corrected text: the machine's timings are kept for every word it heard, new words are placed
between their neighbours. A curator's words carry probability None: no machine ever heard them."""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Any

from archive.errors import InvalidInput

Word = dict[str, Any]
_NOT_WORD = re.compile(r"[^\w]+")


def normalise(token: str) -> str:
    """How words are compared: lower case, punctuation gone ("Americans," and "americans" are one word)."""
    return _NOT_WORD.sub("", token.lower())


def clean_text(text: str, *, field: str = "text", limit: int = 5000) -> str:
    """One line of text: runs of whitespace (a textarea's line breaks too) become one space; other control
    characters are refused, not silently dropped, so nobody saves something other than what they see."""
    text = " ".join(text.split())
    if not text:
        raise InvalidInput(f"{field}: give the words (1–{limit:,} characters)")
    if len(text) > limit:
        raise InvalidInput(f"{field}: {len(text):,} characters is longer than {limit:,}")
    for character in text:
        if unicodedata.category(character) == "Cc":
            raise InvalidInput(f"{field}: contains a control character (U+{ord(character):04X})")
    return text


def realign(old: list[Word], text: str, start: float, end: float) -> list[Word]:
    """The words of `text`, timed from `old` (the segment's words) within the segment's span [start, end].

    Words matched (after normalising) keep their start, end and probability with the new spelling. Where old
    words were replaced by new ones, the new words share the old words' span (one to one when the counts agree);
    inserted words share the gap between their neighbours. Either way their probability is None.
    """
    tokens = text.split()
    matcher = difflib.SequenceMatcher(
        None, [normalise(w["word"]) for w in old], [normalise(t) for t in tokens], autojunk=False
    )
    words: list[Word] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        new = tokens[j1:j2]
        if op == "equal":
            words.extend({**old[i1 + k], "word": token} for k, token in enumerate(new))
        elif op == "replace" and i2 - i1 == j2 - j1:
            words.extend(_guessed(token, old[i1 + k]["start"], old[i1 + k]["end"]) for k, token in enumerate(new))
        elif op == "replace":
            words.extend(_spread(new, old[i1]["start"], old[i2 - 1]["end"]))
        elif op == "insert":
            before = words[-1]["end"] if words else start
            after = old[i1]["start"] if i1 < len(old) else end
            words.extend(_spread(new, before, after))
        # "delete": the machine's words that are no longer in the text are dropped.
    return [{**w, "start": _clamp(w["start"], start, end), "end": _clamp(w["end"], start, end)} for w in words]


def _guessed(token: str, start: float, end: float) -> Word:
    return {"word": token, "start": round(start, 3), "end": round(end, 3), "probability": None}


def _spread(tokens: list[str], start: float, end: float) -> list[Word]:
    """Tokens sharing [start, end] evenly (a zero-length gap gives zero-length words at that second)."""
    end = max(end, start)
    step = (end - start) / len(tokens)
    return [_guessed(token, start + k * step, start + (k + 1) * step) for k, token in enumerate(tokens)]


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)
