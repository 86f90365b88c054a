"""The whole public archive as files for researchers: JSON Lines per meeting, excerpts, people and a manifest.

A dump holds only what the public pages show: speakers by their public name (an anonymous person's role), no
embeddings or voice prints, no curators' suggestions, no tokens. It is written into a hidden folder beside its
destination and renamed into place when complete, so a reader never sees half a dump.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import secrets
import shutil
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.config import Settings
from archive.db.models import Meeting, Person, Redaction, Speaker
from archive.db.types import utcnow
from archive.errors import InvalidInput
from archive.privacy.view import NAMED
from archive.publish.documents import excerpt_documents, meeting_document

SCHEMA_VERSION = 1
DUMPS = "dumps"  # <home>/dumps/: the zips the site offers at /downloads
MANIFEST = "manifest.json"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")

# Said in the manifest, so a dump explains itself without the docs.
LAYOUT = {
    "meetings.jsonl": "one line per meeting: the meeting, its speakers, its recordings (SHA-256) and its file",
    "meetings/<slug>.jsonl": "one line per segment of that meeting, in time order (the API's segment, plus meeting)",
    "excerpts.jsonl": "one line per excerpt, newest first (the shape of GET /api/excerpts/<slug>)",
    "people.jsonl": "one line per person who speaks in a meeting: id, public name, role, affiliation",
}


@dataclass(frozen=True)
class Dump:
    path: Path
    manifest: dict[str, Any]


# Told (meetings written, meetings in all) after each meeting, for a job's progress.
Progress = Callable[[int, int], None]


def write_dump(
    session: Session, out_dir: Path, *, site_name: str, site_url: str = "", progress: Progress | None = None
) -> Dump:
    """Write the dump into `out_dir` (which must not exist, or be empty): all of it, or nothing."""
    out_dir = Path(out_dir)
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        # One snapshot for every query of the dump, so counts, files and manifest agree while others write.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InvalidInput(f"{out_dir} already exists and is not an empty folder: choose a new one")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / f".{out_dir.name}.partial-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        manifest = _write(session, staging, site_name=site_name, site_url=site_url, progress=progress)
        _fsync_dir(staging)
        if out_dir.exists():
            out_dir.rmdir()  # empty: checked above
        os.rename(staging, out_dir)
        _fsync_dir(out_dir.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Dump(out_dir, manifest)


def _write(session: Session, root: Path, *, site_name: str, site_url: str, progress: Progress | None) -> dict[str, Any]:
    (root / "meetings").mkdir()
    files: list[dict[str, Any]] = []
    counts = {"meetings": 0, "segments": 0, "excerpts": 0, "people": 0}
    slugs = session.scalars(select(Meeting.slug).order_by(Meeting.date, Meeting.slug)).all()
    with _JsonLines(root, "meetings.jsonl", files) as meetings:
        for slug in slugs:
            document = meeting_document(session, slug)
            name = f"meetings/{_file_name(slug)}.jsonl"
            with _JsonLines(root, name, files) as segments:
                for segment in document["segments"]:
                    segments.write({"meeting": slug, **segment})
            meetings.write(
                {
                    **document["meeting"],
                    "url": f"{site_url}/meetings/{slug}",
                    "speakers": document["speakers"],
                    "recordings": _recordings(session, slug),
                    "segments": len(document["segments"]),
                    "file": name,
                }
            )
            counts["meetings"] += 1
            counts["segments"] += len(document["segments"])
            if progress is not None:
                progress(counts["meetings"], len(slugs))
    with _JsonLines(root, "excerpts.jsonl", files) as excerpts:
        for excerpt in excerpt_documents(session, base_url=site_url):
            excerpts.write(excerpt)
            counts["excerpts"] += 1
    with _JsonLines(root, "people.jsonl", files) as people:
        for person in session.scalars(
            # Only people named somewhere: a voice whose name is withheld is never tied to its person.
            select(Person)
            .where(Person.id.in_(select(Speaker.person_id).where(Speaker.consent.in_(NAMED))))
            .order_by(Person.id)
        ):
            people.write(person.public_record(site_url))
            counts["people"] += 1
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "site": {"name": site_name, "url": site_url or None},
        "counts": counts,
        "layout": LAYOUT,
        "files": sorted(files, key=lambda f: f["path"]),
    }
    _write_file(root / MANIFEST, (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode())
    return manifest


def _recordings(session: Session, slug: str) -> list[dict[str, Any]]:
    meeting = session.scalar(select(Meeting).where(Meeting.slug == slug))
    assert meeting is not None
    return [
        {"sha256": r.sha256, "offset": r.offset, "duration": r.duration, "has_video": r.has_video}
        for r in meeting.recordings
    ]


def _file_name(slug: str) -> str:
    # Slugs are made by slugify; a file name still never comes from data unchecked.
    if not _SAFE_NAME.fullmatch(slug):
        raise InvalidInput(f"meeting slug {slug!r} cannot be a file name")
    return slug


class _JsonLines:
    """One JSON document per line, hashed as it is written; recorded in the manifest's file list when closed."""

    def __init__(self, root: Path, name: str, files: list[dict[str, Any]]) -> None:
        self.root, self.name, self.files = root, name, files
        self.digest = hashlib.sha256()
        self.size = self.lines = 0

    def __enter__(self) -> _JsonLines:
        self.handle: IO[bytes] = open(self.root / self.name, "xb")  # noqa: SIM115 - closed in __exit__
        return self

    def write(self, document: Mapping[str, Any]) -> None:
        line = (json.dumps(document, ensure_ascii=False) + "\n").encode()
        self.handle.write(line)
        self.digest.update(line)
        self.size += len(line)
        self.lines += 1

    def __exit__(self, *exc: object) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        self.files.append(
            {"path": self.name, "sha256": self.digest.hexdigest(), "size": self.size, "lines": self.lines}
        )


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the zip the site serves -------------------------------------------------------------------------------


def dump_name(now: dt.datetime | None = None) -> str:
    """archive-20240207T181500Z: names that sort by time."""
    return f"archive-{(now or utcnow()):%Y%m%dT%H%M%SZ}"


def write_zip(dump: Path, zip_path: Path) -> Path:
    """Zip a dump under one top folder named like it; lands by temporary file and rename."""
    partial = zip_path.with_name(f".{zip_path.name}.partial-{secrets.token_hex(4)}")
    try:
        with zipfile.ZipFile(partial, "x", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(p for p in dump.rglob("*") if p.is_file()):
                archive.write(path, f"{dump.name}/{path.relative_to(dump).as_posix()}")
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, zip_path)
        _fsync_dir(zip_path.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return zip_path


@dataclass(frozen=True)
class PublishedDump:
    path: Path
    size: int
    manifest: dict[str, Any]


def newest_zip(dumps_dir: Path) -> PublishedDump | None:
    """The newest complete dump zip in <home>/dumps/ (partial files are hidden), with its manifest."""
    if not dumps_dir.is_dir():
        return None
    zips = [p for p in dumps_dir.glob("*.zip") if not p.name.startswith(".") and p.is_file()]
    for path in sorted(zips, key=lambda p: (p.stat().st_mtime, p.name), reverse=True):
        try:
            with zipfile.ZipFile(path) as archive:
                name = next(n for n in archive.namelist() if n == MANIFEST or n.endswith(f"/{MANIFEST}"))
                manifest = json.loads(archive.read(name))
        except (OSError, zipfile.BadZipFile, StopIteration, ValueError):
            continue  # not a dump: skip it rather than serve it
        return PublishedDump(path, path.stat().st_size, manifest)
    return None


def offered_zip(session: Session, dumps_dir: Path) -> PublishedDump | None:
    """The dump the site offers: the newest, unless the redaction ledger changed after it was written (it may
    hold what is now withheld; the worker is writing a new one: see refresh_dumps)."""
    published = newest_zip(dumps_dir)
    if published is None:
        return None
    last_change = session.scalar(select(func.max(Redaction.created_at)))
    if last_change is not None:
        written = dt.datetime.fromtimestamp(published.path.stat().st_mtime, dt.UTC)
        if written <= last_change:
            return None
    return published


def dumps_published(settings: Settings) -> bool:
    """Whether the site offers any bulk download (refresh_dumps has something to rewrite)."""
    folder = settings.home / DUMPS
    return folder.is_dir() and any(not p.name.startswith(".") for p in folder.iterdir())


def refresh_dumps(settings: Settings, session: Session, progress: Progress | None = None) -> Path | None:
    """Published bulk downloads are snapshots that may hold what is now withheld: when there are any, a new one
    is written from the public view, then the old ones are deleted. The worker runs it after every change of
    the redaction ledger (a "dumps" job, queued by archive.privacy.ledger in the change's own transaction)."""
    folder = settings.home / DUMPS
    old = [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []
    if not old:
        return None
    target, n = folder / dump_name(), 2
    while target.exists() or target.with_name(f"{target.name}.zip").exists():  # two changes in one second
        target, n = folder / f"{dump_name()}-{n}", n + 1
    site_url = settings.public_url.rstrip("/")
    made = write_dump(session, target, site_name=settings.site_name, site_url=site_url, progress=progress)
    made_zip = write_zip(made.path, made.path.with_name(f"{made.path.name}.zip"))
    for path in old:
        if path in (made.path, made_zip):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return made_zip
