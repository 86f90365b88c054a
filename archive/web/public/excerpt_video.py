"""/excerpts/<slug>/clip.mp4: a video to share on sites that play video, not audio (archive.excerpts.video).

An audio-only meeting's excerpt becomes its quote card with the words appearing as they are said; a
meeting recorded on video gives the cut of its own video (archive.media.clips). Both are cached by content
under <home>/cache/: their names never depend on the request (no Host header in a key or in the file).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, send_file
from flask.typing import ResponseReturnValue

from archive.excerpts.manage import excerpt_document, find_excerpt, quote, recording_for
from archive.excerpts.video import caption_words, excerpt_video
from archive.media.clips import clip_span, clip_tags, excerpt_clip
from archive.media.store import MediaStore
from archive.privacy.view import silenced_ranges
from archive.web.context import db
from archive.web.public.excerpt_media import MAX_AGE, content_disposition

excerpt_video_page = Blueprint("excerpt_video", __name__)


@excerpt_video_page.get("/excerpts/<slug>/clip.mp4")
def clip_video(slug: str) -> ResponseReturnValue:
    settings = current_app.config["TESTIMONY"]
    excerpt = find_excerpt(db(), slug)
    document = excerpt_document(db(), excerpt)
    words = quote(db(), excerpt.meeting_id, excerpt.start, excerpt.end).words  # as published (archive.privacy)
    recording = recording_for(excerpt.meeting, excerpt.start, excerpt.end)
    source = MediaStore(settings.media_dir).path_for(recording.sha256, recording.suffix)
    silence = silenced_ranges(db(), excerpt.meeting)
    db().rollback()  # encoding takes a moment: hold no transaction open meanwhile
    # The configured address or none: a clip's tags never come from the request's Host header.
    tags = clip_tags(document, (settings.public_url or "").rstrip("/"))
    limits = {"timeout": settings.decode_timeout, "memory_mb": settings.decode_memory_mb}
    cache = settings.home / "cache" / "captioned"
    if recording.has_video:
        path = excerpt_clip(cache, document, source, recording.duration, "mp4", tags, silence=silence, **limits)
    else:
        audio = excerpt_clip(cache, document, source, recording.duration, "m4a", tags, silence=silence, **limits)
        start, end = clip_span(excerpt.start - recording.offset, excerpt.end - recording.offset, recording.duration)
        timed = caption_words(words, recording.offset + start)
        path = excerpt_video(cache, document, timed, audio, end - start, settings.site_name, **limits)
    response: Response = send_file(path, mimetype="video/mp4", conditional=True, etag=path.stem, max_age=MAX_AGE)
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.headers["Content-Disposition"] = content_disposition(
        f"{document['meeting']['date']} {document['title']}.mp4"
    )
    return response
