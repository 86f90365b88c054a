"""`testimony restore SRC`: a backup (archive.operations.backup) back into an empty home, checked first, whole or
not at all, with every purge made since the backup done again before anything is served.

1. The snapshot is verified: the manifest's own SHA-256, then every file's size and SHA-256 and the database's.
   A damaged or incomplete backup is refused with the file named; nothing has been written yet.
2. The purge log is read (archive.privacy.purge_log): a restore that could bring back what a speaker asked to
   remove does not start without it, unless told the archive never had one.
3. Files are copied into a staging folder inside the home, the database restored (SQLite: the file; PostgreSQL:
   pg_restore in one transaction), and only then is everything moved into place.
4. The schema is brought up to date, the purge log's entries made at or after the snapshot are re-applied, the
   search index is rebuilt, and `testimony check` runs on the result.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from archive.config import Settings
from archive.db.session import make_engine, make_sessionmaker, migrate
from archive.errors import ArchiveError, InvalidInput
from archive.operations.backup import CHUNK, FORMAT, Progress, _libpq, _search_path, pg_environment
from archive.operations.check import check_archive
from archive.privacy import purge_log
from archive.privacy.purge_log import Reapplied
from archive.search.index import open_backend, rebuild
from archive.search.sync import keep_in_step


@dataclass
class RestoreReport:
    snapshot: Path
    created_at: dt.datetime
    files: int = 0
    purge_log: Path | None = None
    reapplied: Reapplied = field(default_factory=Reapplied)
    indexed: int = 0
    problems: list[str] = field(default_factory=list)


def find_snapshot(source: Path) -> Path:
    """SRC is one snapshot (it holds manifest.json) or a backup folder (its newest complete snapshot)."""
    if (source / "manifest.json").is_file():
        return source
    snapshots = source / "snapshots"
    if snapshots.is_dir():
        complete = sorted(
            p for p in snapshots.iterdir() if (p / "manifest.json").is_file() and not p.name.startswith(".")
        )
        if complete:
            return complete[-1]
    raise InvalidInput(f"{source}: not a backup (no manifest.json, and no snapshots/ with one)")


def verify(snapshot: Path) -> dict[str, Any]:
    """The snapshot's manifest, once every byte it describes is found as described."""
    objects = snapshot.parent.parent / "objects"
    try:
        text = (snapshot / "manifest.json").read_bytes()
        recorded = (snapshot / "manifest.sha256").read_text().strip()
    except FileNotFoundError as error:
        raise ArchiveError(f"backup damaged: {error.filename} is missing") from error
    if hashlib.sha256(text).hexdigest() != recorded:
        raise ArchiveError(f"backup damaged: {snapshot / 'manifest.json'} does not match manifest.sha256")
    manifest: dict[str, Any] = json.loads(text)
    if manifest.get("format") != FORMAT:
        raise ArchiveError(f"{snapshot}: backup format {manifest.get('format')!r} is not one this version reads")
    database = manifest["database"]
    problems = _file_problems(snapshot / database["file"], database["file"], database["sha256"], database["size"])
    for entry in manifest["files"]:
        found = objects / entry["sha256"][:2] / entry["sha256"]
        problems += _file_problems(found, entry["path"], entry["sha256"], entry["size"])
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ArchiveError("backup damaged: " + "; ".join(problems[:5]) + more + "; nothing was restored")
    return manifest


def _file_problems(path: Path, name: str, sha256: str, size: int) -> list[str]:
    if not path.is_file():
        return [f"{name} is missing ({path})"]
    if path.stat().st_size != size:
        return [f"{name} has {path.stat().st_size} bytes, not {size} ({path})"]
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        while chunk := data.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        return [f"{name} does not match its SHA-256 ({path})"]
    return []


def restore(
    settings: Settings,
    source: Path,
    *,
    log: Path | None = None,
    without_purge_log: bool = False,
    reindex: bool = True,
    on_progress: Progress | None = None,
) -> RestoreReport:
    snapshot = find_snapshot(source)
    manifest = verify(snapshot)
    created_at = dt.datetime.fromisoformat(manifest["created_at"])
    report = RestoreReport(snapshot, created_at)
    _refuse_unless_empty(settings, manifest["database"])
    report.purge_log = None if without_purge_log else _purge_log_to_read(settings, manifest, log)
    if report.purge_log is not None:
        list(purge_log.read(report.purge_log))  # a damaged log stops the restore before anything is written

    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=home, prefix=".restoring-"))
    try:
        report.files = _stage_files(snapshot, manifest, staging, on_progress)
        _restore_database(settings, snapshot, manifest["database"], staging)
        _move_into_place(staging, home)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)

    engine = make_engine(settings.sqlalchemy_url)
    try:
        migrate(engine)
        for folder in (settings.media_dir, settings.transcripts_dir, settings.index_dir):
            folder.mkdir(parents=True, exist_ok=True)
        # Not the home's own sessions (archive.home): re-applied entries are in the log already, and must not be
        # logged a second time.
        sessions = make_sessionmaker(engine)
        backend = open_backend(settings)
        keep_in_step(sessions, backend)
        if report.purge_log is not None:
            report.reapplied = purge_log.reapply(sessions, settings, report.purge_log, created_at)
            _carry_log(report.purge_log, settings.purge_log_path)
        with sessions() as session:
            if reindex:
                report.indexed = rebuild(backend, session)
            report.problems = check_archive(session, settings) if reindex else []
    finally:
        engine.dispose()
    return report


def _refuse_unless_empty(settings: Settings, database: dict[str, Any]) -> None:
    kind = "postgresql" if settings.database_url else "sqlite"
    if database["kind"] != kind:
        how = (
            "TESTIMONY_DATABASE_URL set to an empty PostgreSQL database"
            if database["kind"] == "postgresql"
            else "TESTIMONY_DATABASE_URL unset (SQLite)"
        )
        raise InvalidInput(
            f"this backup holds a {database['kind']} database and this home uses {kind}: restore it with {how}"
        )
    home = settings.home
    if kind == "sqlite" and (home / "archive.db").exists():
        raise InvalidInput(f"{home / 'archive.db'} exists: restore into an empty home (a new folder)")
    if kind == "postgresql":
        url = make_url(settings.database_url)
        if _search_path(url) != database.get("schema"):
            raise InvalidInput(
                f"the backup's tables are in schema {database.get('schema') or 'public'}: restore into a database"
                " whose search_path names the same schema"
            )
        engine = make_engine(settings.database_url)
        try:
            if inspect(engine).has_table("meetings"):
                raise InvalidInput("the database in TESTIMONY_DATABASE_URL holds an archive: restore into an empty one")
        finally:
            engine.dispose()
    for folder in (settings.media_dir, settings.transcripts_dir):
        if folder.is_dir() and any(p.is_file() and not p.name.startswith((".", "README")) for p in folder.rglob("*")):
            raise InvalidInput(f"{folder} holds files: restore into an empty home (a new folder)")


def _purge_log_to_read(settings: Settings, manifest: dict[str, Any], given: Path | None) -> Path:
    """The log to re-apply: given, configured, where the backed-up archive kept it, or the home's own."""
    candidates = [given] if given else []
    if settings.purge_log:
        candidates.append(Path(settings.purge_log))
    candidates += [Path(manifest["purge_log"]), settings.purge_log_path]
    for path in candidates:
        if path.is_file():
            return path
    named = given or Path(settings.purge_log or manifest["purge_log"])
    raise InvalidInput(
        f"no purge log at {named}: without it, purges made since the backup would come back. Give --purge-log PATH"
        " (TESTIMONY_PURGE_LOG), or --without-purge-log if this archive has never purged or redacted anything"
    )


def _stage_files(snapshot: Path, manifest: dict[str, Any], staging: Path, on_progress: Progress | None) -> int:
    objects = snapshot.parent.parent / "objects"
    total = sum(entry["size"] for entry in manifest["files"])
    done = 0
    for entry in manifest["files"]:
        relative = Path(entry["path"])
        if relative.is_absolute() or ".." in relative.parts:
            raise ArchiveError(f"backup damaged: {entry['path']} is not a path inside a home")
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(objects / entry["sha256"][:2] / entry["sha256"], target)
        if relative.name == ".secret_key":
            target.chmod(0o600)
        done += entry["size"]
        if on_progress:
            on_progress(done, total)
    return len(manifest["files"])


def _restore_database(settings: Settings, snapshot: Path, database: dict[str, Any], staging: Path) -> None:
    if database["kind"] == "sqlite":
        shutil.copyfile(snapshot / database["file"], staging / "archive.db")
        return
    if shutil.which("pg_restore") is None:
        raise ArchiveError("pg_restore is not installed: install PostgreSQL's client programs to restore this backup")
    url = make_url(settings.database_url)
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        for name, schema in database.get("extensions", []):
            connection.execute(
                sql.SQL("CREATE EXTENSION IF NOT EXISTS {} SCHEMA {}").format(
                    sql.Identifier(name), sql.Identifier(schema)
                )
            )
    command = ["pg_restore", "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"]
    done = subprocess.run(
        [*command, f"--dbname={_libpq(url, password=False)}", str(snapshot / database["file"])],
        env=pg_environment(url),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
        last = (errors or done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[0]
        raise ArchiveError(f"pg_restore failed, nothing was restored: {last}")


def _move_into_place(staging: Path, home: Path) -> None:
    """Files first, the SQLite database last: a home with a database is a complete one."""
    database = staging / "archive.db"
    for path in sorted(staging.rglob("*")):
        if path.is_file() and path != database:
            target = home / path.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
    if database.exists():
        os.replace(database, home / "archive.db")


def _carry_log(read_from: Path, home_log: Path) -> None:
    """The restored home goes on logging to its own purge log: it starts with the history it was restored with."""
    if home_log.exists() or home_log.resolve() == read_from.resolve():
        return
    home_log.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(read_from, home_log)
    home_log.chmod(0o600)
