"""The legislator directory: the shipped Vermont file, refusals with the row and reason, atomic replacement,
towns (split towns give every candidate district), on SQLite and PostgreSQL through the real CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.cli.main import main
from archive.db.models import DistrictTown, Legislator
from archive.legislators import VERMONT_FILE, VERMONT_SEATS, find_legislators

pytestmark = pytest.mark.both_databases  # towns and districts matched with SQL lower(): ASCII-only on SQLite

HEADER = "name,chamber,district,party,email,phone,openstates_id,source"
# Burlington lies in two House districts (Chittenden-15 and -16 in this test's towns file) and one Senate district.
TOWNS = (
    "town,chamber,district\n"
    "Burlington,lower,Chittenden-15\n"
    "Burlington,lower,Chittenden-16\n"
    "Burlington,upper,Chittenden Central\n"
    "Middlebury,lower,Addison-1\n"
    "Middlebury,upper,Addison\n"
)


def vermont_lines() -> list[str]:
    return VERMONT_FILE.read_text(encoding="utf-8").splitlines()


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(runner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(main, list(args))


@pytest.fixture
def imported(runner, sessions):  # type: ignore[no-untyped-def]
    """The shipped Vermont directory, imported with the default command."""
    result = run(runner, "legislators", "import")
    assert result.exit_code == 0, result.output
    return result


def counts(sessions) -> tuple[int, int, int, int, int]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        seats = dict(session.execute(select(Legislator.chamber, func.count()).group_by(Legislator.chamber)).all())
        house = session.scalar(
            select(func.count(func.distinct(Legislator.district))).where(Legislator.chamber == "house")
        )
        senate = session.scalar(
            select(func.count(func.distinct(Legislator.district))).where(Legislator.chamber == "senate")
        )
        towns = session.scalar(select(func.count()).select_from(DistrictTown))
    return seats.get("house", 0), seats.get("senate", 0), house, senate, towns


def test_the_shipped_file_is_the_open_states_vermont_directory() -> None:
    """What the data README says, checked against the file itself."""
    with VERMONT_FILE.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 180
    assert sum(r["chamber"] == "lower" for r in rows) == 150 and sum(r["chamber"] == "upper" for r in rows) == 30
    assert len({r["district"] for r in rows if r["chamber"] == "lower"}) == 109
    assert len({r["district"] for r in rows if r["chamber"] == "upper"}) == 16
    assert len({r["email"].lower() for r in rows}) == 180
    assert VERMONT_SEATS == (150, 30)
    assert (VERMONT_FILE.parent / "README.md").read_text(encoding="utf-8").count("CC0") == 1


def test_import_without_a_file_loads_vermont_and_its_towns(imported, sessions) -> None:  # type: ignore[no-untyped-def]
    assert "imported 180 legislators" in imported.stdout
    assert "150 House in 109 districts, 30 Senate in 16 districts" in imported.stdout
    assert "532 town rows" in imported.stdout  # the bundled towns come with the bundled legislators
    assert counts(sessions) == (150, 30, 109, 16, 532)
    with sessions() as session:
        amy = session.scalar(select(Legislator).where(Legislator.email == "asheldon@leg.state.vt.us"))
        assert (amy.name, amy.chamber, amy.district, amy.party) == ("Amy Sheldon", "house", "Addison-1", "Democratic")
        assert amy.openstates_id.startswith("ocd-person/") and amy.source.startswith("data/vt/legislature/")
        assert amy.imported_at is not None


def test_init_does_not_load_the_directory(runner, sessions) -> None:  # type: ignore[no-untyped-def]
    assert run(runner, "init").exit_code == 0
    assert counts(sessions)[:2] == (0, 0)


def test_list_filters_by_chamber_and_district(imported, runner) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, "legislators", "list", "--district", "chittenden-15")
    assert result.exit_code == 0
    assert [line.split("  ")[:3] for line in result.stdout.splitlines()] == [
        ["house", "Chittenden-15", "Brian Cina"],
        ["house", "Chittenden-15", "Troy Headrick"],
    ]
    senate = run(runner, "legislators", "list", "--chamber", "senate").stdout.splitlines()
    assert len(senate) == 30 and all(line.startswith("senate  ") for line in senate)


def refused(runner, sessions, path: Path, *more: str) -> str:  # type: ignore[no-untyped-def]
    """Import a bad file: refused with one line on stderr, and the Vermont directory imported before is intact."""
    result = run(runner, "legislators", "import", str(path), *more)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"testimony: error: {path}: refused, nothing imported: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert counts(sessions)[:4] == (150, 30, 109, 16)
    return result.stderr


def test_a_missing_seat_is_refused(imported, runner, sessions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines = vermont_lines()
    del lines[5]  # a House member
    message = refused(runner, sessions, write(tmp_path, "short.csv", lines))
    assert "149 House seats, expected 150" in message and "--expect-seats" in message


def test_another_legislatures_seats_are_given(runner, sessions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines = [HEADER, "Ann Ames,lower,1,,ann@example.org,,,", "Bo Berg,upper,1,,bo@example.org,,,"]
    path = write(tmp_path, "tiny.csv", lines)
    assert run(runner, "legislators", "import", str(path)).exit_code == 1
    result = run(runner, "legislators", "import", str(path), "--expect-seats", "1,1")
    assert result.exit_code == 0, result.output
    assert counts(sessions)[:2] == (1, 1)
    bad = run(runner, "legislators", "import", str(path), "--expect-seats", "1")
    assert bad.exit_code == 1 and "--expect-seats" in bad.stderr


def test_a_duplicate_email_names_both_rows(imported, runner, sessions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines = vermont_lines()
    lines[3] = lines[3].replace("pconlon@leg.state.vt.us", "ASHELDON@leg.state.vt.us")  # row 4 takes row 2's
    message = refused(runner, sessions, write(tmp_path, "dup.csv", lines))
    assert "row 4: duplicate email ASHELDON@leg.state.vt.us (also on row 2)" in message


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda row: row.replace(",lower,", ",assembly,", 1), "row 3: chamber 'assembly' is not one of"),
        (lambda row: "," + row.split(",", 1)[1], "row 3: empty name"),
        (lambda row: row.replace("rscheu@leg.state.vt.us", "rscheu at leg"), "row 3: malformed email"),
        (lambda row: row.replace(",Addison-1,", ",,"), "row 3: empty district"),
        (lambda row: row + ",extra", "row 3: 9 fields where the header has 8"),
    ],
)
def test_a_bad_row_is_refused_with_its_number_and_reason(imported, runner, sessions, tmp_path, change, reason) -> None:  # type: ignore[no-untyped-def]
    lines = vermont_lines()
    lines[2] = change(lines[2])
    assert reason in refused(runner, sessions, write(tmp_path, "bad.csv", lines))


def test_a_duplicate_person_and_a_missing_column(imported, runner, sessions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines = vermont_lines()
    lines.append(lines[1].replace("asheldon@", "amy.sheldon@").replace("ocd-person/f", "ocd-person/0"))
    assert "row 182: duplicate person Amy Sheldon in Addison-1 (also on row 2)" in refused(
        runner, sessions, write(tmp_path, "twice.csv", lines)
    )
    no_email = [",".join(line.split(",")[:4] + line.split(",")[5:]) for line in vermont_lines()]
    assert "row 1: missing column email" in refused(runner, sessions, write(tmp_path, "cols.csv", no_email))


def test_an_import_replaces_the_directory(imported, runner, sessions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines = vermont_lines()
    lines[1] = lines[1].replace("Amy Sheldon", "Amy Q. Sheldon")
    assert run(runner, "legislators", "import", str(write(tmp_path, "new.csv", lines))).exit_code == 0
    with sessions() as session:
        names = set(session.scalars(select(Legislator.name)))
    assert "Amy Q. Sheldon" in names and "Amy Sheldon" not in names and len(names) == 180


def test_towns_a_split_town_offers_every_candidate_district(imported, runner, sessions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    towns = tmp_path / "towns.csv"
    towns.write_text(TOWNS, encoding="utf-8")
    result = run(runner, "legislators", "import", "--towns", str(towns))
    assert result.exit_code == 0, result.output
    assert "5 town rows" in result.stdout
    with sessions() as session:
        lookup = find_legislators(session, town="burlington")
        assert lookup.town == "Burlington"
        house, senate = lookup.matches
        assert (house.chamber, house.districts, house.chosen, house.split) == (
            "house",
            ["Chittenden-15", "Chittenden-16"],
            None,
            True,
        )
        assert house.legislators == []  # the supporter chooses first
        assert (senate.districts, senate.chosen) == (["Chittenden Central"], "Chittenden Central")
        assert len(senate.legislators) == 3
        assert (
            lookup.message
            == "Burlington is split between House districts Chittenden-15 and Chittenden-16: choose yours."
        )
        chosen = find_legislators(session, town="Burlington", district="Chittenden-16")
        assert {p.district for p in chosen.legislators} == {"Chittenden-16", "Chittenden Central"}
        assert chosen.message is None
        unknown = find_legislators(session, town="Atlantis")
        assert unknown.matches == [] and "choose your district below" in unknown.message
    # A later import of a legislators file without --towns keeps the towns whose districts still exist; an
    # import without arguments loads the bundled legislators with their towns.
    assert run(runner, "legislators", "import", str(VERMONT_FILE)).exit_code == 0
    assert counts(sessions)[4] == 5
    assert run(runner, "legislators", "import").exit_code == 0
    assert counts(sessions)[4] == 532


def test_a_towns_file_naming_an_unknown_district_is_refused(imported, runner, sessions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    towns = tmp_path / "towns.csv"
    towns.write_text(TOWNS + "Atlantis,lower,Chittenden-99\n", encoding="utf-8")
    result = run(runner, "legislators", "import", "--towns", str(towns))
    assert result.exit_code == 1
    assert "row 7: House district 'Chittenden-99' is not in the legislators file" in result.stderr
    assert counts(sessions) == (150, 30, 109, 16, 532)  # the bundled towns imported before, intact


def test_a_failed_write_leaves_the_previous_directory(imported, sessions) -> None:  # type: ignore[no-untyped-def]
    """The replacement is one transaction: an error after the old rows are deleted rolls the deletion back."""
    from archive.legislators import read_legislators, replace_directory
    from archive.legislators.directory import Row

    rows = read_legislators(VERMONT_FILE)
    clash = Row(999, "Someone Else", "house", "Addison-1", None, rows[0].email, None, None, None)  # unique email
    with pytest.raises(Exception), sessions() as session, session.begin():  # noqa: B017 - the database's own error
        replace_directory(session, [*rows, clash], None)
    assert counts(sessions)[:4] == (150, 30, 109, 16)
