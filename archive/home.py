"""The archive home: its folders (media/, transcripts/, search_index/), its database, the search index that
follows it (archive.search.sync) and the purge log that records its ledger (archive.privacy.purge_log), made and
opened."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.db.session import make_engine, make_sessionmaker, migrate
from archive.errors import ArchiveError
from archive.privacy.purge_log import keep_purge_log
from archive.search.index import open_backend
from archive.search.sync import keep_in_step


def init_home(settings: Settings) -> sessionmaker[Session]:
    """Create the folders and bring the database schema up to date; safe to run again."""
    for folder in (settings.media_dir, settings.transcripts_dir, settings.index_dir):
        folder.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.sqlalchemy_url)
    migrate(engine)
    return _indexed(make_sessionmaker(engine), settings)


def open_home(settings: Settings) -> sessionmaker[Session]:
    """Sessions for an existing archive; a clear error when `testimony init` was never run."""
    if not settings.database_url and not (settings.home / "archive.db").exists():
        raise ArchiveError(f"no archive in {settings.home.resolve()}: run `testimony init` there first")
    engine = make_engine(settings.sqlalchemy_url)
    if not inspect(engine).has_table("meetings"):
        engine.dispose()
        raise ArchiveError("the database has no archive tables: run `testimony init` first")
    return _indexed(make_sessionmaker(engine), settings)


def _indexed(sessions: sessionmaker[Session], settings: Settings) -> sessionmaker[Session]:
    """Every commit of these sessions re-indexes the meetings it changed (archive.search.sync) and logs the ledger
    rows it added (archive.privacy.purge_log); one backend object per sessionmaker, which keeps the index open (the
    web app searches with it too)."""
    keep_in_step(sessions, open_backend(settings))
    keep_purge_log(sessions, settings.purge_log_path)
    return sessions
