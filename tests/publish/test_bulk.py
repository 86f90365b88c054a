"""The bulk dump: complete or absent, hashes that match, JSON Lines that parse, only public data."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive.cli.main import main
from archive.db.models import Meeting, Speaker
from archive.errors import InvalidInput
from archive.excerpts.manage import create_excerpt
from archive.publish.bulk import newest_zip, write_dump
from tests.factories.meetings import Line, add_meeting, update_person

pytestmark = pytest.mark.both_databases  # the dump takes one REPEATABLE READ snapshot on PostgreSQL

MEETING = "2024-02-07-comment"


@pytest.fixture
def archive(sessions) -> str:  # type: ignore[no-untyped-def]
    """A meeting with an anonymous testifier whose voice has an embedding, a named member, an excerpt."""
    add_meeting(
        sessions,
        MEETING,
        [
            Line("I work on a farm in Addison and I'm afraid.", 10.0, 14.0, "Elena Ruiz", "farmworker"),
            Line("You're here illegally.", 20.0, 22.5, "Deputy Dan", "member", "remark", ["hot-mic"]),
            Line("[applause]", 23.0, 24.0),
        ],
    )
    add_meeting(sessions, "2023-05-01-budget", [Line("The budget grows.", 1.0, 3.0, "Chair Ann", "chair")])
    update_person(sessions, "Elena Ruiz", consent="anonymous", affiliation="Addison Dairy Farm")
    with sessions() as session, session.begin():
        for speaker in session.scalars(select(Speaker)):
            speaker.embedding = b"\x01\x02voiceprint" * 8
            speaker.embedding_model = "campplus"
        create_excerpt(session, MEETING, 20.0, 22.5, "Hot mic", note="Said to a testifier", created_by="token:x")
    return MEETING


def read_lines(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_dump_writes_every_file_with_a_manifest_that_matches(runner: CliRunner, archive: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "dump"
    result = runner.invoke(main, ["dump", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == str(out)
    assert "2 meetings, 4 segments, 1 excerpts, 3 people" in result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["schema_version"] == 1
    assert manifest["counts"] == {"meetings": 2, "segments": 4, "excerpts": 1, "people": 3}
    assert manifest["site"]["name"] == "Testimony Archive"
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    assert (
        listed
        == on_disk
        == {
            "meetings.jsonl",
            f"meetings/{MEETING}.jsonl",
            "meetings/2023-05-01-budget.jsonl",
            "excerpts.jsonl",
            "people.jsonl",
        }
    )
    for entry in manifest["files"]:
        data = (out / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["size"] and data.count(b"\n") == entry["lines"]
    assert not list(tmp_path.glob(".dump.partial-*"))  # the staging folder became the dump


def test_the_dump_holds_segments_meetings_excerpts_and_people(runner: CliRunner, archive: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "dump"
    assert runner.invoke(main, ["dump", str(out)]).exit_code == 0
    segments = read_lines(out / "meetings" / f"{MEETING}.jsonl")
    assert [(s["meeting"], s["start"], s["text"]) for s in segments] == [
        (MEETING, 10.0, "I work on a farm in Addison and I'm afraid."),
        (MEETING, 20.0, "You're here illegally."),
        (MEETING, 23.0, "[applause]"),
    ]
    assert segments[1]["speaker"]["name"] == "Deputy Dan" and segments[1]["tags"] == ["hot-mic"]
    assert segments[1]["words"][0] == {"word": "You're", "start": 20.0, "end": 22.5, "probability": 0.9}
    meetings = read_lines(out / "meetings.jsonl")
    assert [m["slug"] for m in meetings] == ["2023-05-01-budget", MEETING]  # by date
    assert meetings[1]["file"] == f"meetings/{MEETING}.jsonl" and meetings[1]["segments"] == 3
    assert meetings[1]["recordings"][0]["sha256"] == hashlib.sha256(MEETING.encode()).hexdigest()
    (excerpt,) = read_lines(out / "excerpts.jsonl")
    assert (excerpt["title"], excerpt["quote"], excerpt["note"]) == (
        "Hot mic",
        "You're here illegally.",
        "Said to a testifier",
    )
    people = {p["role"]: p for p in read_lines(out / "people.jsonl")}
    assert people["farmworker"]["name"] == "farmworker" and people["farmworker"]["affiliation"] is None


def test_the_dump_holds_no_voice_data_no_tokens_and_no_anonymous_name(
    runner: CliRunner, archive: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "dump"
    assert runner.invoke(main, ["dump", str(out), "--zip"]).exit_code == 0
    texts = [p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file()]
    with zipfile.ZipFile(tmp_path / "dump.zip") as bundle:
        texts += [bundle.read(name).decode() for name in bundle.namelist()]
        assert sorted(bundle.namelist())[0] == "dump/excerpts.jsonl"  # one top folder
    for text in texts:
        for secret in ("Elena", "Ruiz", "Addison Dairy", "embedding", "voiceprint", "campplus", "token:x"):
            assert secret not in text


def test_an_existing_folder_is_never_overwritten(runner: CliRunner, archive: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "dump"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = runner.invoke(main, ["dump", str(out)])
    assert result.exit_code == 1 and "already exists and is not an empty folder" in result.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["dump", "home"]  # no staging left behind


def test_a_failure_midway_leaves_nothing(sessions, archive: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():  # a meeting whose slug cannot be a file name
        session.execute(Meeting.__table__.update().where(Meeting.slug == MEETING).values(slug="../escape"))
    with sessions() as session, pytest.raises(InvalidInput, match="cannot be a file name"):
        write_dump(session, tmp_path / "dump", site_name="T")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]


def test_a_dump_under_the_home_is_zipped_and_found_newest_first(runner: CliRunner, archive: str, settings) -> None:  # type: ignore[no-untyped-def]
    first = runner.invoke(main, ["dump"])
    assert first.exit_code == 0, first.output
    zip_path = Path(first.stdout.splitlines()[-1])
    assert zip_path.parent == settings.home / "dumps" and zip_path.suffix == ".zip"
    assert (zip_path.parent / zip_path.stem / "manifest.json").is_file()
    (settings.home / "dumps" / "junk.zip").write_bytes(b"not a zip")
    published = newest_zip(settings.home / "dumps")
    assert published is not None and published.path == zip_path
    assert published.manifest["counts"]["meetings"] == 2
    assert newest_zip(settings.home / "nowhere") is None


def _paths(value: object) -> list[str]:
    """Every string in a JSON value that is a site-relative link."""
    if isinstance(value, dict):
        return [p for v in value.values() for p in _paths(v)]
    if isinstance(value, list):
        return [p for v in value for p in _paths(v)]
    return [value] if isinstance(value, str) and value.startswith("/") and not value.startswith("//") else []


@pytest.mark.parametrize("database_url", [""])  # SQLite: links, not the dialect, are under test
def test_with_a_public_address_every_link_in_the_dump_and_the_csv_is_absolute(runner, archive, tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner.env["TESTIMONY_PUBLIC_URL"] = "https://archive.example.org/"
    out = tmp_path / "dump"
    assert runner.invoke(main, ["dump", str(out)]).exit_code == 0
    found = []
    for path in out.rglob("*.jsonl"):
        for row in read_lines(path):
            found += [(path.name, link) for link in _paths(row)]
    assert found == []
    excerpt = read_lines(out / "excerpts.jsonl")[0]
    assert excerpt["url"].startswith("https://archive.example.org/excerpts/")
    exported = runner.invoke(main, ["excerpt", "export", "--format", "csv"])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    links = [
        value for row in rows for value in row.values() if value and "/excerpts/" in value or "/meetings/" in value
    ]
    assert links and all(link.startswith("https://archive.example.org/") for link in links), rows
    assert "https://archive.example.org//" not in exported.stdout
    # Without an address the links stay relative, and both commands say so.
    del runner.env["TESTIMONY_PUBLIC_URL"]
    relative = runner.invoke(main, ["excerpt", "export", "--format", "csv"])
    assert "TESTIMONY_PUBLIC_URL is not set" in relative.stderr and ",/excerpts/" in relative.stdout
    assert "TESTIMONY_PUBLIC_URL is not set" in runner.invoke(main, ["dump", str(tmp_path / "again")]).stderr
