"""The languages the site and its emails speak: the catalogs, and sentences that travel up to be translated.

The interface speaks English and Spanish (the archive's supporters are mostly Spanish-speaking); the catalogs are
in archive/translations/ (docs/translations.md says how to add and update strings). Code below the web (campaigns,
follows, mail) has no Flask: it writes its emails with `translations(locale)` and raises errors whose words are a
`Text`, which the web says in the visitor's language. What people wrote (transcripts, campaigns, letters to
legislators) is never translated.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALES = ("en", "es")  # English first: the default, and the language the strings are written in
LOCALE_NAMES = {"en": "English", "es": "Español"}  # each in its own language, as the switch shows them
CATALOGS = Path(__file__).parent / "translations"  # <locale>/LC_MESSAGES/messages.po and its compiled .mo
DOMAIN = "messages"


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of a locale (English, or a locale without one: the strings as written)."""
    if locale not in LOCALES or locale == "en":
        return NullTranslations()
    return Translations.load(str(CATALOGS), [locale], DOMAIN)


class Text(str):
    """A sentence for the person at the keyboard, written in English (it is a str: logs and the CLI read it as is),
    that the web says in the visitor's language: `Text("at most %(n)s characters", n=10)`. The message is what the
    catalogs hold (extracted under the keyword Text); the values are filled in after translation (counts written
    as the language writes numbers, a Text value translated too)."""

    message: str
    values: dict[str, Any]

    def __new__(cls, message: str, **values: Any) -> Text:
        text = super().__new__(cls, message % _written(values, "en") if values else message)
        text.message = message
        text.values = values
        return text

    def translated(self, locale: str) -> str:
        said = translations(locale).gettext(self.message)
        return said % _written(self.values, locale) if self.values else said


class Sentences(str):
    """Sentences said one after another (a search's notes: what was cut, what was left out), each a Text said in
    the visitor's language on its own; a str of them all in English, as Text is."""

    parts: tuple[str, ...]

    def __new__(cls, parts: list[str]) -> Sentences:
        text = super().__new__(cls, " ".join(parts))
        text.parts = tuple(parts)
        return text

    def translated(self, locale: str) -> str:
        return " ".join(say(part, locale) for part in self.parts)


def sentences(parts: list[str | None]) -> Sentences | None:
    """The sentences given, in order; None when there are none."""
    said = [part for part in parts if part]
    return Sentences(said) if said else None


# How each language writes a date in prose: '7 February 2024', '7 de febrero de 2024' (Babel's patterns).
LONG_DATES = {"en": "d MMMM y", "es": "d 'de' MMMM 'de' y"}


def long_date(day: dt.date, locale: str) -> str:
    """A date as a sentence in `locale` writes it ('7 February 2024', '7 de febrero de 2024')."""
    return format_date(day, LONG_DATES.get(locale, "long"), locale=locale)


def _written(values: dict[str, Any], locale: str) -> dict[str, Any]:
    """The values as a locale writes them: a count with its digit grouping (10,000; 10.000), a date in words, a
    Text translated."""
    return {name: _value(value, locale) for name, value in values.items()}


def _value(value: Any, locale: str) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return format_decimal(value, locale=locale)
    if isinstance(value, dt.date):  # a datetime too: its day
        return long_date(value, locale)
    return say(value, locale)


def say(message: object, locale: str) -> str:
    """An error's or notice's words in a locale: a Text translated, anything else as it is."""
    return message.translated(locale) if isinstance(message, Text | Sentences) else str(message)
