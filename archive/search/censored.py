"""Words Whisper writes with asterisks ("f**king", "s***") found by their letters: searching "fucking" finds them.

Whisper learned from subtitles that hide swear words, and hides some itself, more or fewer depending on the
machine's arithmetic (the same recording gave "fucking" on one CPU and "f**king" on another). The record keeps
what the machine wrote; only what the search indexes reads such a word as the one its visible letters spell. A
word is read only when its first letter is shown and a word of SWEAR_WORDS fits it: length, and every letter not
hidden; where two would fit ("fucke*"), the first of SWEAR_WORDS. PostgreSQL indexes the same reading
(migration 0021 writes its SQL from these words, in this order).
"""

from __future__ import annotations

import functools
import re

# The words subtitles and Whisper hide, most frequent first; lower case.
SWEAR_WORDS = (
    "fuck",
    "fucking",
    "fucked",
    "fucker",
    "fuckers",
    "fucks",
    "motherfucker",
    "shit",
    "shitty",
    "bullshit",
    "bitch",
    "bitches",
    "asshole",
    "ass",
    "damn",
    "goddamn",
    "dick",
    "bastard",
    "cunt",
    "piss",
    "pissed",
)
# A word with at least one asterisk among its letters, its first letter shown ("f**king", "f***", "s**t").
HIDDEN_WORD = re.compile(r"(?<![\w*])[^\W\d_][\w*]*\*[\w*]*(?![\w*])")


@functools.lru_cache(maxsize=4096)
def spelled(hidden: str) -> str | None:
    """The first swear word these visible letters spell, or None."""
    lower = hidden.lower()
    fits = (
        word
        for word in SWEAR_WORDS
        if len(word) == len(lower) and all(c == "*" or c == w for c, w in zip(lower, word, strict=True))
    )
    return next(fits, None)


def searchable(text: str) -> str:
    """The text as the search indexes it: each hidden swear word spelled out, everything else as written."""
    if "*" not in text:
        return text
    return HIDDEN_WORD.sub(lambda found: spelled(found.group()) or found.group(), text)
