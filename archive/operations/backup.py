"""`testimony backup DEST`: a consistent snapshot of an archive while it serves, copied file by file by hash.

A backup folder holds any number of snapshots and one store of files by content:

    DEST/objects/ab/abcdef…          every file's bytes, named by its SHA-256, written once (so a second
                                     backup copies only the files that are new since the first)
    DEST/snapshots/20261207T211500Z/
        manifest.json                the archive's version, the database's kind, its revision and its file,
                                     and every file of the home (path, SHA-256, size)
        manifest.sha256              the manifest's own SHA-256: a changed byte anywhere is found
        database.sqlite | database.pgdump

The database is copied first, as of one moment (SQLite's online backup API; pg_dump with an exported snapshot,
whose transaction also lists the files); then exactly the files its rows name, which were written before their
rows and are never changed. The search index, caches and dumps are derived and left out; the purge log is kept
apart on purpose (archive.privacy.purge_log). `restore` (archive.operations.restore) reads it back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from archive.config import Settings
from archive.errors import ArchiveError
from archive.media.store import MediaStore

FORMAT = 1
CHUNK = 1024 * 1024
SNAPSHOT_NAME = "%Y%m%dT%H%M%SZ"

# (bytes done, bytes in all) while files are copied.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BackupReport:
    snapshot: Path
    files: int  # files in the snapshot
    copied: int  # of which were new to the backup folder
    copied_bytes: int
    total_bytes: int  # the snapshot's files and database together


@dataclass(frozen=True)
class _Wanted:
    """A file of the home the database names: where it is, and its SHA-256 when the database knows it."""

    path: str  # relative to the home, with "/" (media/ab/…, transcripts/…)
    source: Path
    sha256: str | None


def backup(settings: Settings, dest: Path, *, on_progress: Progress | None = None) -> BackupReport:
    """Write a new snapshot of the archive into `dest` (made if absent)."""
    started = dt.datetime.now(dt.UTC)
    name = started.strftime(SNAPSHOT_NAME)
    snapshot, number = dest / "snapshots" / name, 1
    while snapshot.exists():  # two backups in one second: …Z, …Z-2 (sorted in the order they were made)
        number += 1
        snapshot = dest / "snapshots" / f"{name}-{number}"
    objects = dest / "objects"
    objects.mkdir(parents=True, exist_ok=True)
    partial = dest / "snapshots" / f".partial-{snapshot.name}"
    partial.mkdir(parents=True)
    try:
        database, wanted = _snapshot_database(settings, partial)
        wanted.extend(_loose_files(settings))
        entries, copied, copied_bytes = _copy_files(wanted, objects, on_progress)
        manifest = {
            "format": FORMAT,
            "created_at": started.isoformat(),
            "archive_version": importlib.metadata.version("testimony-archive"),
            "database": database,
            "files": entries,
            "purge_log": str(settings.purge_log_path.resolve()),
        }
        text = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        (partial / "manifest.json").write_text(text, encoding="utf-8")
        (partial / "manifest.sha256").write_text(hashlib.sha256(text.encode()).hexdigest() + "\n")
        _fsync_tree(partial)
        partial.rename(snapshot)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    total = database["size"] + sum(entry["size"] for entry in entries)
    return BackupReport(snapshot, len(entries), copied, copied_bytes, total)


def _snapshot_database(settings: Settings, folder: Path) -> tuple[dict[str, Any], list[_Wanted]]:
    if settings.database_url:
        return _snapshot_postgres(settings, folder)
    return _snapshot_sqlite(settings, folder)


def _snapshot_sqlite(settings: Settings, folder: Path) -> tuple[dict[str, Any], list[_Wanted]]:
    source = settings.home / "archive.db"
    if not source.exists():
        raise ArchiveError(f"no archive in {settings.home.resolve()}: nothing to back up")
    target = folder / "database.sqlite"
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.execute("PRAGMA busy_timeout = 30000")
        live.backup(copy)  # one consistent state, while the site and the worker write
    with sqlite3.connect(target) as copy:
        revision = copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        wanted = _named_files(settings, copy.execute(_RECORDINGS).fetchall(), copy.execute(_RUNS).fetchall())
    copy.close()
    return _describe(target, "sqlite", revision), wanted


def _snapshot_postgres(settings: Settings, folder: Path) -> tuple[dict[str, Any], list[_Wanted]]:
    if shutil.which("pg_dump") is None:
        raise ArchiveError("pg_dump is not installed: install PostgreSQL's client programs to back up this archive")
    url = make_url(settings.database_url)
    schema = _search_path(url)
    target = folder / "database.pgdump"
    # One transaction exports its snapshot to pg_dump and lists the files as of the same moment.
    with psycopg.connect(_libpq(url)) as connection:
        connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        if schema:
            connection.execute(f'SET LOCAL search_path TO "{schema}"')
        snapshot_id = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot_id}"]
        if schema:
            command.append(f"--schema={schema}")
        done = subprocess.run(
            [*command, f"--file={target}", _libpq(url, password=False)],
            env=pg_environment(url),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise ArchiveError(f"pg_dump failed: {done.stderr.strip().splitlines()[-1] if done.stderr else ''}")
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]  # type: ignore[index]
        extensions = connection.execute(_EXTENSIONS).fetchall()
        recordings = connection.execute(_RECORDINGS).fetchall()
        runs = connection.execute(_RUNS).fetchall()
    described = _describe(target, "postgresql", revision)
    described["schema"] = schema
    # A dump of one schema leaves out the extensions its objects use (unaccent, for search): restore makes them.
    described["extensions"] = [[name, where] for name, where in extensions if where != schema]
    return described, _named_files(settings, recordings, runs)


_RECORDINGS = "SELECT sha256, suffix FROM recordings ORDER BY id"
_EXTENSIONS = (
    "SELECT e.extname, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
    " WHERE e.extname <> 'plpgsql' ORDER BY e.extname"
)
_RUNS = "SELECT transcript_file, transcript_sha256 FROM transcription_runs ORDER BY id"


def _named_files(settings: Settings, recordings: list[Any], runs: list[Any]) -> list[_Wanted]:
    store = MediaStore(settings.media_dir)
    wanted = []
    for sha256, suffix in recordings:
        source = store.path_for(sha256, suffix)
        wanted.append(_Wanted(f"media/{sha256[:2]}/{source.name}", source, sha256))
    for name, sha256 in runs:
        wanted.append(_Wanted(f"transcripts/{name}", settings.transcripts_dir / name, sha256))
    return wanted


def _loose_files(settings: Settings) -> list[_Wanted]:
    """The signing key and uploads waiting for their job: not named by a row's hash, hashed while copied."""
    wanted = []
    key = settings.home / ".secret_key"
    if key.is_file():
        wanted.append(_Wanted(".secret_key", key, None))
    uploads = settings.home / "uploads"
    if uploads.is_dir():
        for path in sorted(uploads.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                wanted.append(_Wanted(f"uploads/{path.name}", path, None))
    return wanted


def _copy_files(
    wanted: list[_Wanted], objects: Path, on_progress: Progress | None
) -> tuple[list[dict[str, Any]], int, int]:
    """Copy each file into the object store unless its bytes are there already; the manifest's entries."""
    total = sum(_size(item.source) for item in wanted)
    done = copied = copied_bytes = 0
    entries = []
    for item in wanted:
        if item.sha256 and (existing := _object(objects, item.sha256)).exists():
            size = existing.stat().st_size  # copied by an earlier backup: nothing to read
            sha256 = item.sha256
        else:
            if not item.source.exists():
                raise ArchiveError(f"{item.source}: the database names this file but it is missing (testimony check)")
            sha256, size = _store(item.source, objects, expected=item.sha256)
            copied += 1
            copied_bytes += size
        entries.append({"path": item.path, "sha256": sha256, "size": size})
        done += size
        if on_progress:
            on_progress(done, total)
    return entries, copied, copied_bytes


def _store(source: Path, objects: Path, *, expected: str | None) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    fd, temp = tempfile.mkstemp(dir=objects, prefix=".incoming-")
    try:
        with open(source, "rb") as src, os.fdopen(fd, "wb") as out:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha256 = digest.hexdigest()
        if expected and sha256 != expected:
            raise ArchiveError(f"{source} does not match its SHA-256 in the database (run testimony check)")
        target = _object(objects, sha256)
        target.parent.mkdir(exist_ok=True)
        os.replace(temp, target)
        return sha256, size
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _object(objects: Path, sha256: str) -> Path:
    return objects / sha256[:2] / sha256


def _describe(path: Path, kind: str, revision: str) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        while chunk := data.read(CHUNK):
            digest.update(chunk)
    return {
        "kind": kind,
        "file": path.name,
        "revision": revision,
        "sha256": digest.hexdigest(),
        "size": path.stat().st_size,
    }


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as data:
            os.fsync(data.fileno())


def _search_path(url: Any) -> str | None:
    """The schema named by `options=-csearch_path=…` in the URL (one schema), or None for the default."""
    options = str(url.query.get("options", ""))
    if "search_path=" not in options:
        return None
    return options.split("search_path=", 1)[1].split()[0].split(",")[0].strip('"')


def _libpq(url: Any, *, password: bool = True) -> str:
    """A libpq connection string (no SQLAlchemy driver name, no options); without the password for a command line,
    where every user of the machine could read it (pg_environment passes it instead)."""
    plain = url.set(drivername="postgresql").difference_update_query(["options"])
    if not password:
        plain = plain.set(password=None)
    return str(plain.render_as_string(hide_password=False))


def pg_environment(url: Any) -> dict[str, str]:
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    return environment
