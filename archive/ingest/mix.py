"""A tracks meeting's mixdown: its tracks summed into one recording (archive.media.mixdown), stored like any
recording (content-addressed) and marked `Recording.mix`. The public player, excerpt clips, captioned clip videos
and the public copy with withheld spans silenced use it; the tracks stay for curators and for transcription.

Made at ingest of tracks (files or channels) and, for a meeting ingested before mixes, by `testimony mix`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.db.lookups import meeting_by_slug
from archive.db.models import Meeting, Recording
from archive.media.decode import decoded, probe
from archive.media.mixdown import write_mix
from archive.media.store import MediaStore

Report = Callable[[str], None]


def mix_meeting(
    sessions: sessionmaker[Session], settings: Settings, slug: str, report: Report = lambda message: None
) -> bool:
    """Store the mixdown of the meeting's tracks, unless it has one or no tracks; returns whether one was made."""
    with sessions() as session:
        meeting = meeting_by_slug(session, slug)
        if not meeting.has_tracks or meeting.mix is not None:
            return False
        tracks = [(r.sha256, r.suffix, r.track or r.original_name, r.offset) for r in meeting.recordings]
        position = max(r.position for r in meeting.recordings) + 1
    store = MediaStore(settings.media_dir)
    limits = {"timeout": settings.decode_timeout, "memory_mb": settings.decode_memory_mb}
    with tempfile.TemporaryDirectory(prefix="testimony-mix-") as folder, ExitStack() as stack:
        # Each track decoded to a file of its own (on disk, not in memory), read a block at a time by write_mix.
        sources = [
            (stack.enter_context(decoded(store.path_for(sha256, suffix), name=name, **limits))[1], offset)
            for sha256, suffix, name, offset in tracks
        ]
        gain = write_mix(sources, Path(folder) / "mix.wav")
        stack.close()  # the decoded tracks are not needed any more: free their disk before staging
        staged = store.stage(Path(folder) / "mix.wav")
    try:
        media = probe(staged.path, name=f"the mix of {slug}", **limits)
        with sessions() as session, session.begin():
            meeting = meeting_by_slug(session, slug)
            if meeting.mix is not None or session.scalar(select(Recording.id).where(Recording.sha256 == staged.sha256)):
                store.discard(staged)
                return False
            store.commit(staged, media.suffix)
            session.add(
                Recording(
                    meeting_id=meeting.id,
                    mix=True,
                    sha256=staged.sha256,
                    position=position,  # after the tracks: the public route names a recording by its position
                    offset=0.0,
                    suffix=media.suffix,
                    original_name=f"{slug} mix{media.suffix}",
                    size=staged.size,
                    container=media.container,
                    duration=media.duration,
                    has_video=False,
                    streams=media.streams,
                )
            )
    except BaseException:
        store.discard(staged)
        raise
    report(f"{slug}: mixed its {len(tracks)} tracks into one recording for the public player (gain {gain:.2f})")
    return True


def unmixed_meetings(session: Session) -> list[str]:
    """The slugs of the meetings of tracks that have no mix yet (ingested before mixes were made), oldest first."""
    mixed = select(Recording.meeting_id).where(Recording.mix.is_(True))
    return list(
        session.scalars(
            select(Meeting.slug)
            .join(Recording, Recording.meeting_id == Meeting.id)
            .where(Recording.track.is_not(None), Meeting.id.not_in(mixed), Meeting.purged_at.is_(None))
            .group_by(Meeting.id, Meeting.slug)
            .order_by(Meeting.id)
        )
    )
