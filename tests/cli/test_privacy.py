"""`testimony privacy`, `backup` and `restore` from a terminal: the same rules, confirmations and audit entries as
the curators' pages, and the operator's round trip (back up, purge, restore the older backup)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from archive.cli.main import main
from archive.db.models import AuditEvent, Meeting, Speaker
from archive.search import SearchRequest
from archive.search.index import open_backend
from tests.factories.meetings import Line, add_meeting, add_meeting_with_files

WHO = ["--reason", "asked by phone", "--requested-by", "Rosa", "--approved-by", "editor@example.org"]


def test_consent_redact_lift_and_the_ledger_from_the_command_line(runner, sessions, settings) -> None:  # type: ignore[no-untyped-def]
    lines = [Line("My name is Rosa Quintana and I milk cows.", 0.0, 4.0, speaker="Rosa"), Line("Thanks.", 10.0, 11.0)]
    add_meeting(sessions, "meeting", lines)
    done = runner.invoke(main, ["privacy", "consent", "meeting", "SPEAKER_00", "name-withheld", *WHO])
    assert done.exit_code == 0, done.output
    done = runner.invoke(main, ["privacy", "redact", "meeting", "--phrase", "Rosa Quintana", *WHO])
    assert done.exit_code == 0, done.output
    phrase_entry = int(done.output.split("ledger entry ")[1].split(":")[0])
    assert open_backend(settings).search(SearchRequest(q="quintana")).total == 0
    done = runner.invoke(main, ["privacy", "redact", "meeting", "--start", "0:00:10", "--end", "10.5", *WHO])
    assert done.exit_code == 0, done.output
    done = runner.invoke(main, ["privacy", "lift", str(phrase_entry), "--reason", "she agreed after all"])
    assert done.exit_code == 0, done.output
    assert open_backend(settings).search(SearchRequest(q="quintana")).total == 1

    done = runner.invoke(main, ["privacy", "ledger", "--json"])
    entries = [json.loads(line) for line in done.output.splitlines()]
    assert [e["scope"] for e in entries] == ["lift", "range", "phrase", "consent"]
    assert entries[1]["start"] == 10.0 and entries[1]["end"] == 10.5
    assert entries[0]["lifts"] == phrase_entry
    table = runner.invoke(main, ["privacy", "ledger", "--meeting", "meeting", "--scope", "consent"]).output
    assert "consent name-withheld" in table and "asked by phone (asked: Rosa; approved: editor@example.org)" in table
    with sessions() as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
        assert actions == ["consent-change", "redaction-add", "redaction-add", "redaction-lift"]
        assert set(session.scalars(select(AuditEvent.actor))) == {"cli"}
        speaker = session.scalars(select(Speaker)).one()
        assert speaker.consent == "name-withheld"


def test_privacy_commands_refuse_bad_input_in_one_line(runner, sessions) -> None:  # type: ignore[no-untyped-def]
    add_meeting(sessions, "meeting", [Line("Words.", 0.0, 1.0, speaker="Rosa")])
    cases = [
        (["privacy", "redact", "meeting", *WHO], "give either --phrase, or --start and --end"),
        (["privacy", "redact", "meeting", "--start", "5", *WHO], "--start and --end: give both"),
        (["privacy", "redact", "meeting", "--start", "soon", "--end", "9", *WHO], "is not a time"),
        (["privacy", "redact", "nowhere", "--phrase", "x y", *WHO], "nowhere"),
        (["privacy", "consent", "meeting", "SPEAKER_09", "unpublished", *WHO], "has no voice 'SPEAKER_09'"),
        (["privacy", "lift", "99999999999999", "--reason", "r"], "no redaction 99999999999999"),
        (["privacy", "redact", "meeting", "--phrase", "Words", "--reason", " ", *WHO[2:]], "reason: say why"),
    ]
    for arguments, message in cases:
        done = runner.invoke(main, arguments)
        assert done.exit_code != 0, arguments
        assert message in done.output, (arguments, done.output)
        assert "Traceback" not in done.output


def test_a_purge_asks_for_the_slug_unless_told_yes(runner, sessions, settings) -> None:  # type: ignore[no-untyped-def]
    add_meeting_with_files(sessions, settings, "meeting", "Testimony about the dairy farm")
    done = runner.invoke(main, ["privacy", "purge", "meeting", *WHO], input="another-slug\n")
    assert done.exit_code == 1 and "nothing was purged" in done.output
    with sessions() as session:
        assert session.scalars(select(Meeting.purged_at)).one() is None
    done = runner.invoke(main, ["privacy", "purge", "meeting", *WHO], input="meeting\n")
    assert done.exit_code == 0, done.output
    assert "2 file(s) removed" in done.output
    assert list(settings.media_dir.rglob("*.wav")) == []


@pytest.mark.parametrize("database_url", [""])  # the command line under test; both databases: tests/operations
def test_back_up_purge_and_restore_the_older_backup_from_the_command_line(runner, settings, sessions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    add_meeting_with_files(sessions, settings, "purged", "Zyxwhistle testimony on the dairy farm")
    add_meeting_with_files(sessions, settings, "kept", "Testimony on the grocery store")
    done = runner.invoke(main, ["backup", str(tmp_path / "backups")])
    assert done.exit_code == 0, done.output
    assert "4 files" in done.output and "4 new" in done.output
    assert runner.invoke(main, ["privacy", "purge", "purged", *WHO, "--yes"]).exit_code == 0

    new_home = {"TESTIMONY_HOME": str(tmp_path / "new"), "TESTIMONY_DATABASE_URL": ""}
    done = runner.invoke(main, ["restore", str(tmp_path / "backups")], env=new_home)
    assert done.exit_code == 0, done.output
    assert "1 change(s) made since the backup re-applied" in done.output
    assert "re-applied:" in done.output and "purged: meeting purged" in done.output
    assert done.output.rstrip().endswith("archive is consistent")
    assert runner.invoke(main, ["check"], env=new_home).output.strip() == "archive is consistent"
    hits = json.loads(runner.invoke(main, ["search", "zyxwhistle", "--json"], env=new_home).output)
    assert hits["total"] == 0
    hits = json.loads(runner.invoke(main, ["search", "grocery", "--json"], env=new_home).output)
    assert hits["total"] == 1

    done = runner.invoke(main, ["restore", str(tmp_path / "backups")], env=new_home)
    assert done.exit_code == 1 and "restore into an empty home" in done.output and "Traceback" not in done.output
