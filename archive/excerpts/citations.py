"""Citations of an excerpt: plain text, Chicago, BibTeX and CSL-JSON, from its document (excerpt_document).

Each names the words' source precisely enough to check it: the timestamped URL of the meeting, the access date,
whether a curator verified the words against the recording, and the recording's SHA-256 (the file itself is
content-addressed, so anyone holding a copy can confirm it is the same recording).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from archive.config import language_name
from archive.excerpts.manage import ExcerptDocument
from archive.timecodes import format_clock

FORMATS = ("plain", "chicago", "bibtex", "csl-json")
LABELS = {"plain": "Plain text", "chicago": "Chicago", "bibtex": "BibTeX", "csl-json": "CSL-JSON"}


def citations(document: ExcerptDocument, *, base_url: str, site_name: str, accessed: dt.date) -> dict[str, str]:
    """Every citation format of one excerpt; base_url is the site's public address (https://…)."""
    facts = _facts(document, base_url.rstrip("/"), site_name, accessed)
    return {
        "plain": plain(facts),
        "chicago": chicago(facts),
        "bibtex": bibtex(facts),
        "csl-json": csl_json(facts),
    }


def _facts(document: ExcerptDocument, base: str, site_name: str, accessed: dt.date) -> dict[str, Any]:
    meeting = document["meeting"]
    verified = document["verified"]
    if verified:
        verified_on = dt.datetime.fromisoformat(verified["at"]).date() if verified["at"] else None
        verification = f"Verified against the recording by {verified['by']}" + (
            f" on {_long_date(verified_on)}" if verified_on else ""
        )
    else:
        verification = "Machine transcript, not yet verified against the recording"
    return {
        "key": f"excerpt-{document['slug']}",
        "title": document["title"],
        "quote": document["quote"],
        # Only identified voices are named: a diarization label (SPEAKER_01) means nothing to a reader.
        "speakers": [s["name"] for s in document["speakers"] if s["name"]],
        "meeting": meeting["title"],
        "body": meeting["body"],
        "date": dt.date.fromisoformat(meeting["date"]),
        "span": f"{format_clock(document['start'])}–{format_clock(document['end'])}",
        "url": base + document["context_url"],
        "excerpt_url": base + document["url"],
        "sha256": document["recording"]["sha256"],
        "languages": document.get("languages") or [],
        # The interpreter's words, labelled as such: never part of the quote.
        "interpretation": " ".join(part["text"] for part in document.get("interpretation") or []),
        "interpretation_languages": list(
            dict.fromkeys(p["language"] for p in document.get("interpretation") or [] if p["language"])
        ),
        "verification": verification,
        "site": site_name,
        "accessed": accessed,
    }


def _long_date(day: dt.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _who(facts: dict[str, Any]) -> str:
    speakers = facts["speakers"]
    if len(speakers) <= 2:
        return " and ".join(speakers)
    return ", ".join(speakers[:-1]) + ", and " + speakers[-1]


def spoken_in(languages: list[str]) -> str:
    """ "In Spanish", "In Spanish and English"; "" for English alone (the archive's usual language)."""
    if not languages or languages == ["en"]:
        return ""
    names = [language_name(code) for code in languages]
    return "In " + (" and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + ", and " + names[-1])


def _interpreted(facts: dict[str, Any]) -> str:
    """(Interpretation into English, by the meeting's interpreter: “…”)"""
    if not facts["interpretation"]:
        return ""
    into = ", ".join(language_name(code) for code in facts["interpretation_languages"])
    return (
        f" (interpretation{f' into {into}' if into else ''}, by the meeting's interpreter: “{facts['interpretation']}”)"
    )


def plain(facts: dict[str, Any]) -> str:
    who = _who(facts) or "Unidentified speaker"
    language = spoken_in(facts["languages"])
    return (
        f"{who}, “{facts['quote']}”{_interpreted(facts)} {facts['meeting']}, {facts['body']}, "
        f"{_long_date(facts['date'])}, at {facts['span']}{f'. {language}' if language else ''}. "
        f"{facts['site']}, {facts['url']} "
        f"(accessed {_long_date(facts['accessed'])}). {facts['verification']}. Recording SHA-256: {facts['sha256']}."
    )


def chicago(facts: dict[str, Any]) -> str:
    """A bibliography entry for a speech heard in a recording (Chicago Manual of Style, 17th ed., 14.221)."""
    who = _who(facts)
    lead = f"{who}. " if who else ""
    return (
        f"{lead}“{facts['title']}.” Remarks at {facts['meeting']}, {facts['body']}, {_long_date(facts['date'])}, "
        f"{facts['span']}.{_sentence(spoken_in(facts['languages']))} Audio recording. {facts['site']}. "
        f"Accessed {_long_date(facts['accessed'])}. "
        f"{facts['url']}. {facts['verification']}; recording SHA-256 {facts['sha256']}."
    )


# BibTeX's special characters in field values; every value is wrapped in braces, so these must be balanced.
_BIBTEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "^": r"\^{}",
    "~": r"\~{}",
}


def _sentence(text: str) -> str:
    return f" {text}." if text else ""


def _tex(text: str) -> str:
    return "".join(_BIBTEX_ESCAPES.get(char, char) for char in text)


def bibtex(facts: dict[str, Any]) -> str:
    # Each name in double braces: a person's or a role's name is not split into first and last names.
    author = " and ".join("{" + _tex(name) + "}" for name in facts["speakers"])
    fields = [
        ("author", author),
        ("title", "{" + _tex(facts["title"]) + "}"),
        ("howpublished", _tex(f"Audio recording, {facts['meeting']}, {facts['body']}, at {facts['span']}")),
        ("organization", _tex(facts["body"])),
        ("publisher", _tex(facts["site"])),
        ("year", str(facts["date"].year)),
        ("date", facts["date"].isoformat()),
        ("url", _tex(facts["url"])),
        ("urldate", facts["accessed"].isoformat()),
        ("language", ", ".join(facts["languages"]) if spoken_in(facts["languages"]) else ""),
        (
            "note",
            _tex(
                f"“{facts['quote']}”{_interpreted(facts)} {facts['verification']}. Recording SHA-256: {facts['sha256']}"
            ),
        ),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@misc{{{facts['key']},\n{body}\n}}"


def _date_parts(day: dt.date) -> dict[str, Any]:
    return {"date-parts": [[day.year, day.month, day.day]]}


def csl_json(facts: dict[str, Any]) -> str:
    """One CSL-JSON item (the format of Zotero, Pandoc and citeproc), in a list as CSL-JSON files are."""
    item = {
        "id": facts["key"],
        "type": "speech",
        "title": facts["title"],
        "author": [{"literal": name} for name in facts["speakers"]],
        "event-title": facts["meeting"],
        "event": facts["meeting"],  # CSL 1.0.1's name for event-title, still read by older processors
        "authority": facts["body"],
        "publisher": facts["site"],
        "medium": "Audio recording",
        "issued": _date_parts(facts["date"]),
        "accessed": _date_parts(facts["accessed"]),
        "URL": facts["url"],
        "abstract": facts["quote"],
        "language": "-".join(facts["languages"][:1]) or "en",
        "note": (
            f"At {facts['span']}.{_interpreted(facts)} {facts['verification']}. Recording SHA-256: {facts['sha256']}"
        ),
    }
    if not item["author"]:
        del item["author"]
    return json.dumps([item], ensure_ascii=False, indent=2)
