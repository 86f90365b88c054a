"""The purge log: every change to the redaction ledger, also appended to a file kept apart from the database and
its backups (`TESTIMONY_PURGE_LOG`, best on another disk), so that a restore of an older backup can do them again.

A backup holds the archive as it was; a speaker may have asked since to withhold a name, a voice or a whole
meeting. `testimony restore` reads this log and re-applies every entry made after the backup's snapshot before
the restored archive serves anything (`reapply`).

Entries are JSON lines, written and fsynced before the transaction that made them commits: a ledger change that
cannot be logged does not happen. An entry whose commit then fails is re-applied on a restore all the same, which
errs on the side of withholding. The log holds withheld phrases: keep it as private as the database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, UOWTransaction, sessionmaker

from archive.config import Settings
from archive.db.models import Meeting, Redaction, Speaker
from archive.errors import ArchiveError
from archive.privacy import ledger
from archive.privacy.purge import purge_meeting, remove_files

PATH = "purge_log_path"  # session.info: where this sessionmaker's ledger changes are logged
_PENDING = "purge_log_pending"  # session.info: Redaction rows flushed in this transaction, not yet logged


def keep_purge_log(sessions: sessionmaker[Session], path: Path) -> None:
    """Log, before every commit of a session this sessionmaker makes, the ledger rows the commit adds.

    The log is made empty at once if absent: a restore then knows the archive kept one, even with nothing in it.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
    except OSError as error:
        raise ArchiveError(f"purge log {path}: cannot create it ({error.strerror}); see TESTIMONY_PURGE_LOG") from error
    sessions.kw["info"] = {**sessions.kw.get("info", {}), PATH: path}
    event.listen(sessions, "after_flush", _after_flush)
    event.listen(sessions, "before_commit", _before_commit)
    event.listen(sessions, "after_rollback", _forget)


def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    new = [row for row in session.new if isinstance(row, Redaction)]
    if new:
        session.info.setdefault(_PENDING, []).extend(new)


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _before_commit(session: Session) -> None:
    session.flush()  # rows added since the last flush are flushed by the commit itself, after this hook
    rows = session.info.pop(_PENDING, [])
    if rows:
        append(session.info[PATH], [_entry(session, row) for row in rows])


def _entry(session: Session, row: Redaction) -> dict[str, Any]:
    meeting = session.get(Meeting, row.meeting_id) if row.meeting_id else None
    speaker = session.get(Speaker, row.speaker_id) if row.speaker_id else None
    entry: dict[str, Any] = {
        "at": row.created_at.isoformat(),
        "id": row.id,
        "scope": row.scope,
        "meeting": meeting.slug if meeting else None,
        "voice": speaker.label if speaker else None,
        "consent": row.consent,
        "start": row.start,
        "end": row.end,
        "phrase": row.phrase,
        "reason": row.reason,
        "requested_by": row.requested_by,
        "approved_by": row.approved_by,
    }
    if row.lifts_id is not None:
        original = session.get(Redaction, row.lifts_id)
        entry["lifts"] = _describe(original) if original else {"id": row.lifts_id}
    return entry


def _describe(row: Redaction) -> dict[str, Any]:
    """What a lift withdraws, by content as well as id (the id may differ in a restored archive)."""
    return {"id": row.id, "scope": row.scope, "start": row.start, "end": row.end, "phrase": row.phrase}


def append(path: Path, entries: list[dict[str, Any]]) -> None:
    """Append entries and fsync; a failure is an error, so the transaction that made them does not commit."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            for entry in entries:
                out.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())
    except OSError as error:
        raise ArchiveError(f"purge log {path}: cannot append ({error.strerror}); the change was not made") from error


def read(path: Path) -> Iterator[dict[str, Any]]:
    """The log's entries, oldest first; a clear error names the line that is not an entry."""
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                entry["at"] = dt.datetime.fromisoformat(entry["at"])
            except (ValueError, KeyError, TypeError) as error:
                if not line.endswith("\n"):
                    return  # a last line cut short by a crash while appending: its change never committed
                raise ArchiveError(f"purge log {path}, line {number}: not a log entry ({error})") from error
            yield entry


@dataclass
class Reapplied:
    """What `reapply` did: one line per entry, and the files the re-applied purges removed."""

    done: list[str] = field(default_factory=list)
    already: int = 0
    files_removed: int = 0


def reapply(sessions: sessionmaker[Session], settings: Settings, path: Path, since: dt.datetime) -> Reapplied:
    """Do again, in order, every logged ledger change made at or after `since` that the archive does not hold."""
    report = Reapplied()
    new_ids: dict[int, int] = {}  # a logged row's id → the id of the row re-applied here
    for entry in read(path):
        if entry["at"] < since:
            continue
        with sessions() as session, session.begin():
            row, files = _reapply_one(session, settings, entry, new_ids)
        if row is None:
            report.already += 1
            continue
        new_ids[entry["id"]] = row.id
        report.files_removed += remove_files(files)
        report.done.append(_summary(entry))
    return report


def _reapply_one(
    session: Session, settings: Settings, entry: dict[str, Any], new_ids: dict[int, int]
) -> tuple[Redaction | None, list[Path]]:
    """The re-applied ledger row and the files to delete after commit; (None, []) when there is nothing to do."""
    slug, scope = entry["meeting"], entry["scope"]
    meeting = session.scalar(select(Meeting).where(Meeting.slug == slug)) if slug else None
    if meeting is None or meeting.purged_at is not None:
        return None, []  # made after the backup, or purged already: nothing of it is here
    who = {k: entry.get(k) or "(from the purge log)" for k in ("reason", "requested_by", "approved_by")}
    files: list[Path] = []
    row: Redaction | None = None
    if scope == "purge":
        files = purge_meeting(session, settings, slug, **who, user=None)
        row = session.scalars(
            select(Redaction).where(Redaction.meeting_id == meeting.id, Redaction.scope == "purge")
        ).first()
    elif scope == "consent":
        speaker = session.scalar(
            select(Speaker).where(Speaker.meeting_id == meeting.id, Speaker.label == entry["voice"])
        )
        if speaker is not None and speaker.consent != entry["consent"]:
            row = ledger.set_consent(session, slug, entry["voice"], entry["consent"], **who, user=None)
    elif scope == "range":
        if _in_force(session, meeting.id, entry) is None:
            row = ledger.redact_range(session, slug, entry["start"], entry["end"], **who, user=None)
    elif scope == "phrase":
        if _in_force(session, meeting.id, entry) is None:
            row = ledger.redact_phrase(session, slug, entry["phrase"], **who, user=None)
    elif scope == "lift":
        original = _original(session, meeting, entry["lifts"], new_ids)
        if original is not None:
            row = ledger.lift(session, original.id, reason=who["reason"], user=None)
    else:
        raise ArchiveError(f"purge log: unknown entry scope {scope!r}")
    if row is not None:
        row.created_at = entry["at"]  # the ledger keeps when the change was made, not when it was restored
    return row, files


def _in_force(session: Session, meeting_id: int, wanted: dict[str, Any]) -> Redaction | None:
    lifted = ledger.lifted_ids(session)
    for row in session.scalars(
        select(Redaction).where(Redaction.meeting_id == meeting_id, Redaction.scope == wanted["scope"])
    ):
        if row.id not in lifted and (row.phrase, row.start, row.end) == (
            wanted.get("phrase"),
            wanted.get("start"),
            wanted.get("end"),
        ):
            return row
    return None


def _original(session: Session, meeting: Meeting, lifts: dict[str, Any], new_ids: dict[int, int]) -> Redaction | None:
    """The row a logged lift withdraws, still in force here: re-applied in this restore, or the same row kept in
    the backup (same id and content)."""
    if lifts["id"] in new_ids:
        row = session.get(Redaction, new_ids[lifts["id"]])
    else:
        row = session.get(Redaction, lifts["id"])
        if row is not None and (row.meeting_id, row.scope, row.phrase, row.start, row.end) != (
            meeting.id,
            lifts.get("scope"),
            lifts.get("phrase"),
            lifts.get("start"),
            lifts.get("end"),
        ):
            row = None
    if row is None or row.id in ledger.lifted_ids(session):
        return None
    return row


def _summary(entry: dict[str, Any]) -> str:
    when = entry["at"].strftime("%Y-%m-%d %H:%M")
    what = {
        "purge": "meeting purged",
        "consent": f"voice {entry.get('voice')}: {entry.get('consent')}",
        "range": f"words withheld {entry.get('start')}–{entry.get('end')} s",
        "phrase": "a phrase withheld",
        "lift": "a redaction lifted",
    }.get(entry["scope"], entry["scope"])
    return f"{when} {entry.get('meeting') or ''}: {what}"
