"""Backups and restores on both databases: consistent while the archive is written, incremental, refused when
damaged, and never a way to bring back what a speaker asked to remove (the purge log)."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from archive.config import Settings
from archive.db.models import Meeting, Recording, Speaker
from archive.errors import ArchiveError, InvalidInput
from archive.home import init_home, open_home
from archive.operations.backup import backup
from archive.operations.check import check_archive
from archive.operations.restore import restore
from archive.privacy.ledger import lift, redact_phrase, redact_range, set_consent
from archive.privacy.purge import purge_meeting, remove_files
from archive.search import SearchRequest
from archive.search.index import open_backend
from tests.factories.databases import libpq
from tests.factories.meetings import Line, add_meeting, add_meeting_with_files

WHO = {"reason": "asked in person", "requested_by": "the testifier", "approved_by": "editor@example.org"}


@pytest.fixture
def target(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """An empty home to restore into: a new folder and, on PostgreSQL, a new empty database whose search_path
    names the schema the backup's tables are in."""
    home = tmp_path / "restored"
    if not settings.database_url:
        yield Settings(home=home, threads=1)
        return
    url = make_url(settings.database_url)
    name = f"testimony_restore_{uuid.uuid4().hex[:10]}"
    admin = libpq(url.difference_update_query(["options"]))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Settings(home=home, database_url=url.set(database=name).render_as_string(hide_password=False), threads=1)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def found(settings: Settings, words: str) -> int:
    return open_backend(settings).search(SearchRequest(q=words)).total


def same_log(target: Settings, settings: Settings) -> Settings:
    return dataclasses.replace(target, purge_log=str(settings.purge_log_path))


def test_a_backup_taken_while_the_archive_is_written_restores_whole_and_consistent(
    sessions, settings, target, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    for number in range(3):
        add_meeting_with_files(sessions, settings, f"meeting-{number}", f"Dairy farm testimony number {number}")
    stop = threading.Event()
    written: list[str] = []

    def write_meanwhile() -> None:  # a worker ingesting while the backup runs
        number = 0
        while not stop.is_set() and number < 30:
            add_meeting_with_files(sessions, settings, f"later-{number}", f"Later testimony {number}")
            written.append(f"later-{number}")
            number += 1

    writer = threading.Thread(target=write_meanwhile)
    writer.start()
    try:
        made = backup(settings, tmp_path / "backups")
    finally:
        stop.set()
        writer.join()
    assert written, "the writer wrote nothing while the backup ran"
    manifest = json.loads((made.snapshot / "manifest.json").read_text())
    assert manifest["database"]["kind"] == ("postgresql" if settings.database_url else "sqlite")
    assert not any(entry["path"].startswith("search_index") for entry in manifest["files"])

    done = restore(same_log(target, settings), tmp_path / "backups")
    assert done.problems == []  # `testimony check` on the result: every row's file, every hash, the index
    restored = open_home(target)
    with restored() as session:
        slugs = set(session.scalars(select(Meeting.slug)))
        assert {"meeting-0", "meeting-1", "meeting-2"} <= slugs
        assert check_archive(session, target) == []
    restored.kw["bind"].dispose()
    assert found(target, "dairy farm") == 3
    # Every meeting the snapshot holds came with its files; none written after it is half there.
    assert slugs - {"meeting-0", "meeting-1", "meeting-2"} <= set(written)


def test_a_second_backup_copies_only_the_new_files(sessions, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for number in range(2):
        add_meeting_with_files(sessions, settings, f"meeting-{number}", f"Words {number}")
    first = backup(settings, tmp_path / "b")
    assert (first.files, first.copied) == (4, 4)  # a recording and a transcript each
    add_meeting_with_files(sessions, settings, "meeting-2", "More words")
    second = backup(settings, tmp_path / "b")
    assert (second.files, second.copied) == (6, 2)
    assert second.copied_bytes < second.total_bytes
    assert len(list((tmp_path / "b" / "snapshots").iterdir())) == 2


@pytest.mark.parametrize("damage", ["changed byte", "missing file", "changed manifest"])
def test_a_damaged_backup_is_refused_with_the_file_named_and_nothing_restored(
    sessions, settings, target, tmp_path, damage
) -> None:  # type: ignore[no-untyped-def]
    add_meeting_with_files(sessions, settings, "meeting", "Words")
    made = backup(settings, tmp_path / "b")
    manifest = json.loads((made.snapshot / "manifest.json").read_text())
    media = next(entry for entry in manifest["files"] if entry["path"].startswith("media/"))
    stored = tmp_path / "b" / "objects" / media["sha256"][:2] / media["sha256"]
    if damage == "changed byte":
        data = bytearray(stored.read_bytes())
        data[5] ^= 1
        stored.write_bytes(bytes(data))
        named = media["path"]
    elif damage == "missing file":
        stored.unlink()
        named = media["path"]
    else:
        text = (made.snapshot / "manifest.json").read_text().replace('"format": 1', '"format": 1 ')
        (made.snapshot / "manifest.json").write_text(text)
        named = "manifest.json"
    with pytest.raises(ArchiveError, match="backup damaged") as refused:
        restore(same_log(target, settings), tmp_path / "b")
    assert named in str(refused.value)
    assert not (target.home / "archive.db").exists()
    assert not target.media_dir.exists() or not any(target.media_dir.rglob("*.wav"))


def test_purges_consent_and_redactions_made_after_a_backup_are_done_again_on_restore(
    sessions, settings, target, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    add_meeting_with_files(sessions, settings, "purged", "Zyxwhistle dairy testimony")
    add_meeting_with_files(sessions, settings, "kept", "Quorran spoke of the grocery store and the border")
    with sessions() as session, session.begin():
        early = redact_range(session, "kept", 4.0, 5.0, **WHO, user=None)  # before the backup, lifted after it
    backup(settings, tmp_path / "b")

    with sessions() as session, session.begin():
        files = purge_meeting(session, settings, "purged", **WHO, user=None)
    remove_files(files)
    with sessions() as session, session.begin():
        set_consent(session, "kept", "SPEAKER_00", "name-withheld", **WHO, user=None)
        redact_phrase(session, "kept", "grocery store", **WHO, user=None)
        lift(session, early.id, reason="asked again", user=None)
    with sessions() as session, session.begin():
        later = redact_range(session, "kept", 0.0, 1.0, **WHO, user=None)  # made and lifted after the backup
    with sessions() as session, session.begin():
        lift(session, later.id, reason="a mistake", user=None)

    done = restore(same_log(target, settings), tmp_path / "b")
    assert len(done.reapplied.done) == 6
    assert done.reapplied.files_removed == 2
    assert done.problems == []
    restored = open_home(target)
    with restored() as session:
        tombstone = session.scalars(select(Meeting).where(Meeting.slug == "purged")).one()
        assert tombstone.purged_at is not None
        assert session.scalars(select(Recording).where(Recording.meeting_id == tombstone.id)).all() == []
        speaker = session.scalars(
            select(Speaker).join(Meeting).where(Meeting.slug == "kept", Speaker.label == "SPEAKER_00")
        ).one()
        assert speaker.consent == "name-withheld"
        from archive.privacy.ledger import ledger, lifted_ids

        rows = [row for row, _ in ledger(session)]
        lifted = lifted_ids(session)
        ranges = {(row.start, row.end): row.id in lifted for row in rows if row.scope == "range"}
        assert ranges == {(4.0, 5.0): True, (0.0, 1.0): True}
    restored.kw["bind"].dispose()
    assert len(list(target.media_dir.rglob("*.wav"))) == 1  # the kept meeting's; the purged one's removed again
    assert found(target, "zyxwhistle") == 0
    assert found(target, "grocery") == 0
    assert found(target, "border") == 1

    # Restoring again into another home re-applies the same, and nothing twice.
    again = dataclasses.replace(same_log(target, settings), home=tmp_path / "again", database_url="")
    if not settings.database_url:
        assert len(restore(again, tmp_path / "b").reapplied.done) == 6


def test_a_restore_needs_the_purge_log_and_an_empty_home(sessions, settings, target, tmp_path) -> None:  # type: ignore[no-untyped-def]
    add_meeting_with_files(sessions, settings, "meeting", "Words")
    backup(settings, tmp_path / "b")
    settings.purge_log_path.unlink(missing_ok=True)
    with pytest.raises(InvalidInput, match="no purge log"):
        restore(target, tmp_path / "b")
    assert not (target.home / "archive.db").exists()
    done = restore(target, tmp_path / "b", without_purge_log=True)
    assert done.purge_log is None and done.problems == []
    with pytest.raises(InvalidInput, match="empty"):
        restore(target, tmp_path / "b", without_purge_log=True)


def test_a_ledger_change_that_cannot_be_logged_is_not_made(sessions, settings) -> None:  # type: ignore[no-untyped-def]
    add_meeting(sessions, "meeting", [Line("Words here.", 0.0, 1.0)])
    settings.purge_log_path.unlink()
    settings.purge_log_path.mkdir()  # a folder where the log should be (a disk gone, say): appending fails
    with pytest.raises(ArchiveError, match="purge log"), sessions() as session, session.begin():
        redact_phrase(session, "meeting", "words", **WHO, user=None)
    with sessions() as session:
        from archive.privacy.ledger import ledger

        assert ledger(session) == []


def test_init_home_logs_to_the_configured_purge_log(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path / "home", purge_log=str(tmp_path / "elsewhere" / "purges.jsonl"))
    sessions = init_home(settings)
    add_meeting(sessions, "meeting", [Line("Words here.", 0.0, 1.0)])
    with sessions() as session, session.begin():
        redact_phrase(session, "meeting", "words", **WHO, user=None)
    sessions.kw["bind"].dispose()
    entries = [json.loads(line) for line in (tmp_path / "elsewhere" / "purges.jsonl").read_text().splitlines()]
    assert [(e["scope"], e["meeting"], e["phrase"]) for e in entries] == [("phrase", "meeting", "words")]
    assert (tmp_path / "elsewhere" / "purges.jsonl").stat().st_mode & 0o077 == 0
