"""A meeting's transcript as JSON (the API's meeting document, docs/api.md), WebVTT, SRT, plain text, CSV and
RTTM — one context, many renderers — and excerpts as JSON and CSV. Speakers appear by their public name (an
anonymous person's role), or by their label while nobody has named them; embeddings and voice prints never leave
the database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from dataclasses import dataclass
from typing import Any

import orjson
import srt
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from archive.db.models import Excerpt, Meeting, Segment, Speaker
from archive.errors import InvalidInput, NotFound
from archive.excerpts import excerpt_document, is_withheld
from archive.privacy.view import public_view
from archive.review import review_of
from archive.timecodes import format_clock

FORMATS = ("json", "txt", "vtt", "srt", "csv", "rttm")
# What each format is served as (RTTM has no registered type: it is plain text).
CONTENT_TYPES = {
    "json": "application/json",
    "txt": "text/plain",
    "vtt": "text/vtt",
    "srt": "application/x-subrip",
    "csv": "text/csv",
    "rttm": "text/plain",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def meeting_document(session: Session, slug: str) -> dict[str, Any]:
    """The meeting as the API and `testimony export --format json` give it."""
    meeting = session.scalar(
        select(Meeting)
        .where(Meeting.slug == slug)
        # One query per relation, not one per segment: a long meeting has thousands of segments.
        .options(
            selectinload(Meeting.speakers).selectinload(Speaker.person),
            selectinload(Meeting.recordings),
            selectinload(Meeting.body),
        )
    )
    if meeting is None:
        raise NotFound(f"no meeting with slug {slug!r}")
    # Consent and redactions (archive.privacy) applied here, once, for every renderer and the API.
    view = public_view(session, meeting)
    published = [p for p in (view.publish(s) for s in segment_rows(session, meeting)) if p is not None]
    talk_time: dict[int, float] = {}
    for item in published:
        segment = item.segment
        if segment.speaker_id is not None:
            talk_time[segment.speaker_id] = talk_time.get(segment.speaker_id, 0.0) + segment.end - segment.start
    return {
        "meeting": {
            "slug": meeting.slug,
            "title": meeting.title,
            "date": meeting.date.isoformat(),
            "body": meeting.body.name,
            "source_url": meeting.source_url,
            "duration": round(meeting.duration, 3),
        },
        # {"by", "at"} once a person has reviewed the transcript; null: the unreviewed machine transcript.
        "reviewed": review_of(meeting),
        "speakers": [
            {
                **(view.voice(s) or {}),
                "talk_time": round(talk_time.get(s.id, 0.0), 1),
                "attribution": s.attribution if view.names_person(s) else None,
            }
            for s in meeting.speakers
            if view.consents.get(s.id) != "unpublished"
        ],
        "segments": [
            {
                "id": p.segment.id,
                "start": p.segment.start,
                "end": p.segment.end,
                "speaker": p.speaker,
                "kind": p.segment.kind,
                "tags": p.segment.tags,
                "language": p.segment.language,
                "text": p.text,
                "words": p.words,
            }
            for p in published
        ],
        # What was withheld and when, in words ("A portion was redacted at the speaker's request on …").
        "notices": view.notices,
    }


@dataclass(frozen=True, slots=True)
class SegmentRow:
    """A segment's columns as its meeting's transcript shows them, read without the ORM.

    Building 2,000 ORM objects (and reading their instrumented attributes) was half the time of a 2,000-line
    meeting's page; archive.privacy's view reads these the same way it reads a Segment."""

    id: int
    speaker_id: int | None
    start: float
    end: float
    text: str
    words: list[dict[str, Any]]
    kind: str | None
    tags: list[str]
    language: str | None
    speaker: Speaker | None


def segment_rows(session: Session, meeting: Meeting) -> list[SegmentRow]:
    """The meeting's segments in order (as Meeting.segments), each with its voice from meeting.speakers."""
    voices = {speaker.id: speaker for speaker in meeting.speakers}
    rows = session.execute(
        select(
            Segment.id,
            Segment.speaker_id,
            Segment.start,
            Segment.end,
            Segment.text,
            Segment.words,
            Segment.kind,
            Segment.tags,
            Segment.language,
        )
        .where(Segment.meeting_id == meeting.id)
        .order_by(Segment.start, Segment.id)
    )
    return [
        SegmentRow(
            *row,
            speaker=None
            if row.speaker_id is None
            else voices.get(row.speaker_id) or session.get(Speaker, row.speaker_id),
        )
        for row in rows
    ]


def render(document: dict[str, Any], fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(f"format {fmt!r} is not one of: {', '.join(FORMATS)}")
    return _RENDERERS[fmt](document)


def _speaker_name(segment: dict[str, Any]) -> str | None:
    speaker = segment["speaker"]
    return (speaker["name"] or speaker["label"]) if speaker else None


def _json(document: Any) -> str:
    # orjson: the standard library's encoder is pure Python once it indents (0.8 s for a 2,000-line meeting).
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()


def _text(document: dict[str, Any]) -> str:
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


def _vtt(document: dict[str, Any]) -> str:
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


def _srt(document: dict[str, Any]) -> str:
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


def _csv(document: dict[str, Any]) -> str:
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


def _rttm(document: dict[str, Any]) -> str:
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


# --- excerpts ----------------------------------------------------------------------------------------------

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


def excerpt_query(meeting_slug: str | None = None) -> Select[tuple[Excerpt]]:
    """Excerpts newest first, with what their documents read loaded in a few queries."""
    query = (
        select(Excerpt)
        .join(Meeting)
        .options(
            selectinload(Excerpt.meeting).selectinload(Meeting.recordings),
            selectinload(Excerpt.meeting).selectinload(Meeting.body),
        )
        .order_by(Excerpt.created_at.desc(), Excerpt.id.desc())
    )
    return query.where(Meeting.slug == meeting_slug) if meeting_slug else query


def excerpt_documents(
    session: Session, *, meeting_slug: str | None = None, base_url: str = "", offset: int = 0, limit: int | None = None
) -> list[dict[str, Any]]:
    """Excerpts as their JSON documents, newest first; with a base URL their links are absolute."""
    if meeting_slug and session.scalar(select(Meeting.id).where(Meeting.slug == meeting_slug)) is None:
        raise NotFound(f"no meeting with slug {meeting_slug!r}")
    query = excerpt_query(meeting_slug).offset(offset).limit(limit)
    # An excerpt over an unpublished voice's speech is left out (archive.privacy).
    rows = [row for row in session.scalars(query) if not is_withheld(session, row)]
    return [absolute_links(excerpt_document(session, row), base_url) for row in rows]


def absolute_links(document: dict[str, Any], base_url: str) -> dict[str, Any]:
    """An excerpt document whose url and context_url start with the site's address (when one is known)."""
    base = base_url.rstrip("/")
    return {**document, "url": base + document["url"], "context_url": base + document["context_url"]}


def render_excerpts(documents: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return _json(documents)
    if fmt == "csv":
        return _excerpts_csv(documents)
    raise InvalidInput(f"format {fmt!r} is not one of: {', '.join(EXCERPT_FORMATS)}")


def _excerpts_csv(documents: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXCERPT_COLUMNS)
    for document in documents:
        meeting = document["meeting"]
        verified = document["verified"]
        row = {
            **document,
            "speakers": "; ".join(s["name"] or s["label"] for s in document["speakers"]),
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
