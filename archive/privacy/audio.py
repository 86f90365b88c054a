"""The public copy of a recording: the original with every withheld span silenced.

Made by the clip cutter (archive.media.clips: a child process under the decoder's limits) over the whole file,
cached under <home>/cache/public/ by the recording and the set of silenced spans, so a new redaction makes a new
copy at once and a lift brings the previous one back. The original stays for curators (audited).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from archive.config import Settings
from archive.db.models import Recording
from archive.media.clips import FORMATS, cached, cut_clip, forget_others
from archive.media.store import MediaStore

PUBLIC_COPY_VERSION = 1


@dataclass(frozen=True)
class PublicCopy:
    path: Path
    media_type: str
    key: str


def recording_silence(recording: Recording, silence: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The meeting's silenced spans that fall in this recording, in the file's own time."""
    start, end = recording.offset, recording.offset + recording.duration
    return [(max(a, start) - start, min(b, end) - start) for a, b in silence if b > start and a < end]


def public_copy(settings: Settings, recording: Recording, silence: list[tuple[float, float]]) -> PublicCopy | None:
    """The recording as the public may hear it; None when nothing in it is withheld (the original is served)."""
    spans = recording_silence(recording, silence)
    if not spans:
        return None
    fmt = "mp4" if recording.has_video else "m4a"
    material = json.dumps([PUBLIC_COPY_VERSION, recording.sha256, fmt, [[round(a, 3), round(b, 3)] for a, b in spans]])
    key = hashlib.sha256(material.encode()).hexdigest()
    path = settings.home / "cache" / "public" / f"{recording.sha256}-{key[:20]}{FORMATS[fmt].suffix}"
    source = MediaStore(settings.media_dir).path_for(recording.sha256, recording.suffix)

    def build(temp: Path) -> None:
        cut_clip(
            source,
            temp,
            start=0.0,
            end=recording.duration,
            fmt=fmt,
            tags={},
            silence=spans,
            name=f"recording {recording.position + 1} of {recording.meeting.slug}",
            timeout=settings.decode_timeout,
            memory_mb=settings.decode_memory_mb,
        )

    cached(path, build)
    forget_others(path, f"{recording.sha256}-")
    return PublicCopy(path, FORMATS[fmt].media_type, key)
