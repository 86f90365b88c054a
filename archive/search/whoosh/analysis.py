"""How the Whoosh index reads words: English (Porter) and Spanish (Snowball) stems with accents folded, names
folded, and the <mark> highlighting of a hit's words."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import RegexTokenizer
from whoosh.highlight import HtmlFormatter
from whoosh.lang.porter import stem
from whoosh.lang.snowball.spanish import SpanishStemmer
from whoosh.support.charset import accent_map


@functools.lru_cache(maxsize=200_000)
def _folded(word: str) -> str:
    return word.lower().translate(accent_map)


@functools.lru_cache(maxsize=200_000)
def _folded_stem(word: str) -> str:
    return stem(word.lower()).translate(accent_map)


_SPANISH = SpanishStemmer()


@functools.lru_cache(maxsize=200_000)
def _folded_spanish_stem(word: str) -> str:
    # Folded before stemming, as PostgreSQL's testimony_spanish: "policía" and "policia" both become "polici".
    return _SPANISH.stem(word.lower().translate(accent_map))


class FoldingTokenizer(RegexTokenizer):
    """Whoosh's RegexTokenizer followed by LowercaseFilter | CharsetFilter(accent_map): "José" = "jose".

    One step with a memo per word instead of a generator per filter per word: the chain cost a fifth of the
    index build. tests/search/test_analysis.py checks the tokens equal the chain's, in every mode.
    """

    fold = staticmethod(_folded)

    def __call__(self, value: Any, **kwargs: Any) -> Iterator[Any]:
        fold = self.fold
        for token in super().__call__(value, **kwargs):
            token.text = fold(token.text)
            yield token


class FoldingStemmer(FoldingTokenizer):
    """StemmingAnalyzer(stoplist=None, minsize=1) | CharsetFilter(accent_map), the same way: words are
    lower-cased, Porter-stemmed, then accent-folded."""

    is_morph = True  # as StemFilter: the words it yields are not the words as written
    fold = staticmethod(_folded_stem)


class SpanishFoldingStemmer(FoldingTokenizer):
    """Spanish words lower-cased, accent-folded, then Snowball-stemmed as Spanish: "trabajar", "trabajo" and
    "trabajadores" are all "trabaj"."""

    is_morph = True
    fold = staticmethod(_folded_spanish_stem)


# Every word is kept (no stop list): "you're here" must match as a phrase. Accents fold: "José" = "jose".
TEXT_ANALYZER = FoldingStemmer()
SPANISH_ANALYZER = SpanishFoldingStemmer()
NAME_ANALYZER = FoldingTokenizer()


class MarkFormatter(HtmlFormatter):
    """Matches in <mark>; Whoosh escapes the rest of the text."""

    template = "<mark>%(t)s</mark>"


# The text analyser's words as one group, separators between them: split() gives [separator, word, …, separator].
_WORDS = re.compile(r"([\w\*]+(?:\.?[\w\*]+)*)")


def marked_whole(text: str, words: frozenset[str], spanish: frozenset[str] = frozenset()) -> str:
    """The whole text HTML-escaped, each word whose indexed form is in `words` in <mark>; "" when none is.

    What Whoosh's highlight() gives with WholeFragmenter and MarkFormatter, without a token object per word:
    those were a fifth of a search page's time. tests/search/test_analysis.py compares the two. The words are
    the analyser's (its expression, split in C); a word has no character to escape, a separator may."""
    pieces = _WORDS.split(text)
    marked = False
    for n in range(1, len(pieces), 2):
        word = pieces[n]
        if _folded_stem(word) in words or (spanish and _folded_spanish_stem(word) in spanish):
            pieces[n] = f"<mark>{word}</mark>"
            marked = True
    if not marked:
        return ""
    if "&" in text or "<" in text or ">" in text:  # what html.escape(quote=False) changes
        pieces[::2] = [html.escape(separator, quote=False) for separator in pieces[::2]]
    return "".join(pieces)
