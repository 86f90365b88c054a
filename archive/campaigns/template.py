"""Letter templates: the organizer's text with {placeholders}, checked when saved and filled per recipient.

Not str.format: a template is organizer input, and format's {x.attr} and {x[key]} reach into Python objects.
Only the names in PLACEHOLDERS are allowed; `{{` and `}}` write literal braces.
"""

from __future__ import annotations

import re

from archive.errors import InvalidInput

PLACEHOLDERS = {
    "legislator_name": "the legislator's name (each legislator gets their own letter)",
    "supporter_name": "the supporter's name",
    "town": "the supporter's town",
    "quote": "the first excerpt's quote",
    "excerpt_link": "the first excerpt's address",
    "speaker": "who said the first excerpt's words (their public name and role, or “a speaker”)",
    "body": "the body whose meeting it was (e.g. Burlington City Council)",
    "meeting": "that meeting's title",
    "date": "that meeting's date (e.g. 7 February 2024)",
}
FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def check_template(text: str) -> None:
    """InvalidInput naming the first unknown placeholder or stray brace; nothing else is refused."""
    for match in FIELD.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        name = match.group(1)
        if name is None:
            raise InvalidInput(f"the letter has a lone {token!r}: write {token * 2!r} for a brace, or a placeholder")
        if name not in PLACEHOLDERS:
            raise InvalidInput(
                f"the letter uses {{{name}}}, which is not a placeholder: use one of "
                + ", ".join(f"{{{known}}}" for known in PLACEHOLDERS)
            )


def fill_template(text: str, values: dict[str, str]) -> str:
    """The template with each placeholder replaced (a missing value becomes empty); checked first."""
    check_template(text)

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return values.get(match.group(1), "")

    return FIELD.sub(replace, text)
