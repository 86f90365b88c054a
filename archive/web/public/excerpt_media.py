"""An excerpt's media: its clip (M4A, MP3, Ogg Opus; MP4 when the recording has video) and its quote card."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import quote as url_quote

from flask import Blueprint, Response, abort, current_app, send_file
from flask.typing import ResponseReturnValue

from archive.excerpts.cards import excerpt_card
from archive.excerpts.manage import ExcerptDocument, excerpt_document, find_excerpt, recording_for
from archive.media.clips import FORMATS, clip_tags, excerpt_clip
from archive.privacy.view import silenced_ranges
from archive.web.context import db, stored_media

excerpt_media = Blueprint("excerpt_media", __name__)

# The URL stays the same when an excerpt's title or a speaker's name changes (the file does not): caches
# keep a copy an hour, then revalidate by ETag.
MAX_AGE = 3600


@excerpt_media.get("/excerpts/<slug>/clip.<fmt>")
def clip(slug: str, fmt: str) -> ResponseReturnValue:
    clip_format = FORMATS.get(fmt)
    if clip_format is None:
        abort(404)
    settings = current_app.config["TESTIMONY"]
    excerpt = find_excerpt(db(), slug)
    document = excerpt_document(db(), excerpt)
    recording = recording_for(excerpt.meeting, excerpt.start, excerpt.end)
    if clip_format.video and not recording.has_video:
        abort(404, "this excerpt's recording has no video")
    source = stored_media(recording.sha256, recording.suffix)  # a 503 with a sentence when the file is gone
    duration = recording.duration
    silence = silenced_ranges(db(), excerpt.meeting)  # withheld speech is silent in clips too (archive.privacy)
    db().rollback()  # cutting takes a moment: hold no transaction open meanwhile
    path = excerpt_clip(
        settings.home / "cache" / "clips",
        document,
        source,
        duration,
        fmt,
        clip_tags(document, settings.public_url.rstrip("/")),  # never the Host header: it is in the cache key
        silence=silence,
        timeout=settings.decode_timeout,
        memory_mb=settings.decode_memory_mb,
    )
    return _send(path, clip_format.media_type, _readable_name(document) + clip_format.suffix)


@excerpt_media.get("/excerpts/<slug>/card.png")
def card(slug: str) -> ResponseReturnValue:
    settings = current_app.config["TESTIMONY"]
    document = excerpt_document(db(), find_excerpt(db(), slug))
    db().rollback()
    path = excerpt_card(settings.home / "cache" / "cards", document, settings.site_name)
    return _send(path, "image/png", _readable_name(document) + ".png")


def _send(path: Path, media_type: str, name: str) -> Response:
    # conditional=True answers Range requests with 206 and If-None-Match with 304; the file's name holds its key.
    response = send_file(path, mimetype=media_type, conditional=True, etag=path.stem, max_age=MAX_AGE)
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


def _readable_name(document: ExcerptDocument) -> str:
    return f"{document['meeting']['date']} {document['title']}"


_DASHES = {0x2010: "-", 0x2011: "-", 0x2013: "-", 0x2014: "-", 0x2018: "'", 0x2019: "'"}


def content_disposition(name: str) -> str:
    """`inline; filename="…"` with an ASCII-safe name, and RFC 5987's filename* when the name is not ASCII."""
    stem, dot, suffix = name.rpartition(".")
    ascii_stem = unicodedata.normalize("NFKD", stem.translate(_DASHES)).encode("ascii", "ignore").decode("ascii")
    ascii_stem = re.sub(r"[^A-Za-z0-9 ._,'()-]+", "", ascii_stem)  # no double quotes, slashes or control characters
    ascii_stem = re.sub(r"\s+", " ", ascii_stem).strip(" .") or "excerpt"
    header = f'inline; filename="{ascii_stem}{dot}{suffix}"'
    if ascii_stem != stem:
        header += f"; filename*=UTF-8''{url_quote(name, safe='')}"
    return header
