"""One context, many renderers: a meeting's document (archive.publish.documents) as JSON, WebVTT, SRT, plain text,
CSV and RTTM, and excerpts' documents as JSON and CSV (formula cells neutralised)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from typing import Any

import orjson
import srt

from archive.errors import InvalidInput
from archive.excerpts.manage import ExcerptDocument
from archive.privacy.view import neutral_label, voice_name
from archive.publish.documents import Line, MeetingDocument
from archive.timecodes import format_clock

FORMATS = ("json", "txt", "vtt", "srt", "csv", "rttm")
# What each format is served as (RTTM has no registered type: it is plain text).
CONTENT_TYPES = {
    "json": "application/json",
    "txt": "text/plain",
    "vtt": "text/vtt",
    "srt": "application/x-subrip; charset=utf-8",  # SRT has no default encoding: say it
    "csv": "text/csv",
    "rttm": "text/plain",
}
LANGUAGE_CODE = re.compile(r"[a-z]{2}")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render(document: MeetingDocument, fmt: str, language: str | None = None) -> str:
    """The meeting in one format; with a language (ISO 639-1), only its lines: a captions track per language (the
    testimony as said, the interpretation), or a transcript of one language."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format {fmt!r} is not one of: {', '.join(FORMATS)}")
    if language is not None:
        if not LANGUAGE_CODE.fullmatch(language):
            raise InvalidInput(f"lang {language!r} is not a two-letter language code (en, es)")
        document = {**document, "segments": [s for s in document["segments"] if s["language"] == language]}
    return _RENDERERS[fmt](document)


def _speaker_name(segment: Line) -> str | None:
    return voice_name(segment["speaker"])


def _json(document: Any) -> str:
    # orjson: the standard library's encoder is pure Python once it indents (0.8 s for a 2,000-line meeting).
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()


def _text(document: MeetingDocument) -> str:
    """A script: a blank line between speaker turns, `Name:` where each turn starts, a timestamp on every line."""
    meeting = document["meeting"]
    lines = [f"{meeting['title']}", f"{meeting['body']}, {meeting['date']}"]
    previous: object = ()
    for segment in document["segments"]:
        voice = segment["speaker"]["label"] if segment["speaker"] else None
        name = _speaker_name(segment)
        starts_turn = voice != previous or voice is None
        if starts_turn:
            lines.append("")
        prefix = f"{name}: " if name and starts_turn else ""
        lines.append(f"[{format_clock(segment['start'])}] {prefix}{_one_line(segment['text'])}")
        previous = voice
    return "\n".join(lines) + "\n"


def _vtt(document: MeetingDocument) -> str:
    """WebVTT, written directly: every visitor's player asks for it, and building webvtt-py's objects took
    twice as long as the rest of it. The tests read it back with webvtt-py."""
    cues = ["WEBVTT\n"]
    for segment in document["segments"]:
        name = _speaker_name(segment)
        # <v Name> voice spans let players and screen readers say who speaks.
        text = f"<v {_escape_vtt(name)}>{_escape_vtt(segment['text'])}" if name else _escape_vtt(segment["text"])
        cues.append(f"\n{_vtt_time(segment['start'])} --> {_vtt_time(segment['end'])}\n{text}\n")
    return "".join(cues)


def _escape_vtt(text: str) -> str:
    # One line: a blank line would end the cue. Then the WebVTT escapes (a voice name cannot hold "<" or ">").
    text = _one_line(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("-->", "--&gt;")


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"


def _srt(document: MeetingDocument) -> str:
    subtitles = []
    for number, segment in enumerate(document["segments"], start=1):
        name = _speaker_name(segment)
        subtitles.append(
            srt.Subtitle(
                index=number,
                start=dt.timedelta(milliseconds=round(segment["start"] * 1000)),
                end=dt.timedelta(milliseconds=round(segment["end"] * 1000)),
                content=f"{name}: {segment['text']}" if name else segment["text"],
            )
        )
    return srt.compose(subtitles)


def _csv(document: MeetingDocument) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["segment_id", "start", "end", "timestamp", "speaker", "kind", "tags", "language", "text"])
    for segment in document["segments"]:
        writer.writerow(
            [
                segment["id"],
                segment["start"],
                segment["end"],
                format_clock(segment["start"]),
                neutralise_formula(_speaker_name(segment) or ""),
                segment["kind"] or "",
                " ".join(segment["tags"]),
                segment["language"] or "",
                neutralise_formula(segment["text"]),
            ]
        )
    return out.getvalue()


def _rttm(document: MeetingDocument) -> str:
    """NIST RTTM, the diarization exchange format: one SPEAKER line per segment that has a speaker."""
    uri = document["meeting"]["slug"]
    lines = []
    for segment in document["segments"]:
        name = _speaker_name(segment)
        if not name:
            continue
        duration = max(segment["end"] - segment["start"], 0.0)
        speaker = "_".join(name.split())  # fields are separated by spaces
        lines.append(f"SPEAKER {uri} 1 {segment['start']:.3f} {duration:.3f} <NA> <NA> {speaker} <NA> <NA>")
    return "".join(f"{line}\n" for line in lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def neutralise_formula(cell: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas, and some read the full-width and small forms
    (＝ ＋ － ＠, ﹦ ﹢ ﹣ ﹫) as the same: a leading apostrophe makes them text."""
    first = unicodedata.normalize("NFKC", cell[:1])
    return f"'{cell}" if cell.startswith(_FORMULA_START) or first.startswith(_FORMULA_START) else cell


_RENDERERS = {"json": _json, "txt": _text, "vtt": _vtt, "srt": _srt, "csv": _csv, "rttm": _rttm}


EXCERPT_FORMATS = ("json", "csv")
EXCERPT_COLUMNS = (
    "slug",
    "title",
    "quote",
    "speakers",
    "meeting",
    "meeting_title",
    "body",
    "date",
    "start",
    "end",
    "timestamp",
    "verified",
    "verified_by",
    "note",
    "url",
    "context_url",
    "recording_sha256",
    "created_at",
)


def render_excerpts(documents: list[ExcerptDocument], fmt: str) -> str:
    if fmt == "json":
        return _json(documents)
    if fmt == "csv":
        return _excerpts_csv(documents)
    raise InvalidInput(f"format {fmt!r} is not one of: {', '.join(EXCERPT_FORMATS)}")


def _excerpts_csv(documents: list[ExcerptDocument]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXCERPT_COLUMNS)
    for document in documents:
        meeting = document["meeting"]
        verified = document["verified"]
        row = {
            **document,
            "speakers": "; ".join(s["name"] or neutral_label(s["label"]) for s in document["speakers"]),
            "meeting": meeting["slug"],
            "meeting_title": meeting["title"],
            "body": meeting["body"],
            "date": meeting["date"],
            "timestamp": format_clock(document["start"]),
            "verified": "yes" if verified else "no",
            "verified_by": verified["by"] if verified else "",
            "recording_sha256": document["recording"]["sha256"],
        }
        # Every cell people typed or spoke can start a formula: titles, notes, names, quotes.
        writer.writerow([neutralise_formula(str(row[c])) if row[c] is not None else "" for c in EXCERPT_COLUMNS])
    return out.getvalue()
