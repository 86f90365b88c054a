"""Typing a town: the name a supporter types, matched to the directory's towns however it is spelled.

Forgiven: case, accents, punctuation and spacing; "St", "St." and "Saint" (and "Mt"/"Mount"); "City of Barre"
for "Barre City"; a town typed without "City"/"Town" where the directory has both (Barre City and Barre Town: the
supporter chooses) or one; a trailing ", VT". A typo is not guessed at: close names are offered to choose from.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass, field

ABBREVIATIONS = {"st": "saint", "mt": "mount", "ft": "fort", "jct": "junction", "so": "south", "no": "north"}
QUALIFIERS = ("city", "town")
STATES = {"vt", "vermont"}
CLOSE = 0.75  # difflib ratio for "did you mean"
MAX_SUGGESTIONS = 5


@dataclass(frozen=True)
class TownMatch:
    """`town`: the directory's spelling of the one town meant; else `choices`, the towns it could be (the same
    name as a city and a town, or close spellings of a typo), empty when nothing is near."""

    town: str | None
    choices: list[str] = field(default_factory=list)
    ambiguous: bool = False  # the choices are towns of that very name (Barre City, Barre Town), not typo guesses


@functools.lru_cache(maxsize=4096)  # the directory's names, over and over
def town_key(name: str) -> str:
    """The comparable form of a town's name: "St. Albans City", "saint albans  city" and "City of St Albans" are
    all "saint albans city"."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(character for character in text if not unicodedata.combining(character)).casefold()
    text = re.sub(r"['\u2019`]", "", text)  # Avery's Gore, Averys Gore
    words = re.sub(r"[^\w]+", " ", text).split()
    while words and words[-1] in STATES and len(words) > 1:
        words.pop()
    words = [ABBREVIATIONS.get(word, word) for word in words]
    if len(words) > 2 and words[0] in QUALIFIERS and words[1] == "of":
        words = [*words[2:], words[0]]  # "city of barre" → "barre city"
    return " ".join(words)


def _base(key: str) -> str:
    words = key.split()
    return " ".join(words[:-1]) if len(words) > 1 and words[-1] in QUALIFIERS else key


def match_town(typed: str, names: list[str]) -> TownMatch:
    """The directory's town a supporter meant by `typed`, or the towns to choose from."""
    key = town_key(typed)
    if not key:
        return TownMatch(None)
    keys: dict[str, list[str]] = {}
    for name in names:
        keys.setdefault(town_key(name), []).append(name)
    exact = keys.get(key, [])
    if len(exact) == 1:
        return TownMatch(exact[0])
    by_base = sorted({name for k, found in keys.items() if _base(k) == _base(key) for name in found}, key=str.casefold)
    if len(by_base) == 1:
        return TownMatch(by_base[0])
    if by_base:
        return TownMatch(None, by_base, ambiguous=True)
    close = difflib.get_close_matches(key, list(keys), n=MAX_SUGGESTIONS, cutoff=CLOSE)
    bases = difflib.get_close_matches(_base(key), list({_base(k) for k in keys}), n=MAX_SUGGESTIONS, cutoff=CLOSE)
    guessed = {name for k in close for name in keys[k]}
    guessed |= {name for k, found in keys.items() if _base(k) in bases for name in found}
    return TownMatch(None, sorted(guessed, key=str.casefold)[:MAX_SUGGESTIONS])
