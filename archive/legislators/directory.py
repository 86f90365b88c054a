"""Legislator directory files: read and validated whole, then written in place of the old directory."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from archive.db.models import CHAMBERS, DistrictTown, Legislator
from archive.errors import InvalidInput
from archive.locales import Text

DATA_DIR = Path(__file__).parents[1] / "data"
# The default data set: Vermont's General Assembly from Open States (see archive/data/README.md).
VERMONT_FILE = DATA_DIR / "vt_legislators.csv"
# Which towns make up each of its districts (2022 reapportionment; provenance in archive/data/README.md).
VERMONT_TOWNS = DATA_DIR / "vt_district_towns.csv"
# Seats in the Vermont House and Senate. A file for another legislature passes its own (--expect-seats).
VERMONT_SEATS = (150, 30)

LEGISLATOR_COLUMNS = ("name", "chamber", "district", "party", "email", "phone", "openstates_id", "source")
REQUIRED_COLUMNS = ("name", "chamber", "district", "email")
TOWN_COLUMNS = ("town", "chamber", "district")  # and optionally `part` (whole/part), not needed to split
# Open States calls the chambers lower and upper; a file may also say house and senate.
CHAMBER_NAMES = {"lower": "house", "upper": "senate", "house": "house", "senate": "senate"}
CHAMBER_TITLES = {"house": Text("House"), "senate": Text("Senate")}  # pages say them in their language (| say)
# One address, no spaces, quotes or angle brackets (it goes into mailto: links and, later, To: headers).
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&*+/=?^_`{|}~'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
LIMITS = {"name": 200, "district": 100, "party": 100, "email": 320, "phone": 50, "openstates_id": 100, "source": 500}
TOWN_LIMIT = 200
QUOTED = "\u201c{}\u201d"
MAX_PROBLEMS = 5  # named in the refusal; the rest are counted
EXTRA = "\0extra"  # where csv puts the fields of a row longer than the header


@dataclass(frozen=True)
class Row:
    """One legislator as read from a file; `row` is its spreadsheet row number (the header is row 1)."""

    row: int
    name: str
    chamber: str
    district: str
    party: str | None
    email: str | None
    phone: str | None
    openstates_id: str | None
    source: str | None


@dataclass(frozen=True)
class TownRow:
    row: int
    town: str
    chamber: str
    district: str


@dataclass(frozen=True)
class Imported:
    house: int
    senate: int
    districts: dict[str, int]
    towns: int  # town rows in the directory now
    towns_replaced: bool  # False: no towns file, the stored rows were kept


# --- reading and validating files ---------------------------------------------------------------------------


def parse_seats(text: str) -> tuple[int, int]:
    """`--expect-seats HOUSE,SENATE`, e.g. "150,30"."""
    parts = text.split(",")
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        raise InvalidInput(f"--expect-seats {text!r}: give the House and Senate seats as two numbers, e.g. 150,30")
    house, senate = (int(part) for part in parts)
    return house, senate


def read_legislators(path: Path, expect_seats: tuple[int, int] | None = VERMONT_SEATS) -> list[Row]:
    """Every row of a legislators file, or InvalidInput naming the rows at fault and why; nothing half-read."""
    problems: list[str] = []
    rows: list[Row] = []
    emails: dict[str, int] = {}
    people: dict[tuple[str, str, str], int] = {}
    ids: dict[str, int] = {}
    for number, record in _records(path, LEGISLATOR_COLUMNS, REQUIRED_COLUMNS):
        if isinstance(record, str):
            problems.append(f"row {number}: {record}")
            continue
        values = {column: (record.get(column) or "").strip() for column in LEGISLATOR_COLUMNS}
        reasons = _lengths(values)
        for column in ("name", "district"):
            if not values[column]:
                reasons.append(f"empty {column}")
        chamber = CHAMBER_NAMES.get(values["chamber"].lower())
        if chamber is None:
            reasons.append(f"chamber {values['chamber']!r} is not one of lower, upper, house, senate")
        email = values["email"]
        if email and not EMAIL.fullmatch(email):
            reasons.append(f"malformed email {email!r}")
        elif email:
            if email.lower() in emails:
                reasons.append(f"duplicate email {email} (also on row {emails[email.lower()]})")
            emails.setdefault(email.lower(), number)
        person = (values["name"].casefold(), chamber or "", values["district"].casefold())
        if values["name"] and person in people:
            reasons.append(f"duplicate person {values['name']} in {values['district']} (also on row {people[person]})")
        people.setdefault(person, number)
        if values["openstates_id"]:
            if values["openstates_id"] in ids:
                reasons.append(f"duplicate openstates_id (also on row {ids[values['openstates_id']]})")
            ids.setdefault(values["openstates_id"], number)
        if reasons:
            problems.append(f"row {number}: {', '.join(reasons)}")
            continue
        assert chamber is not None
        rows.append(
            Row(
                row=number,
                name=values["name"],
                chamber=chamber,
                district=values["district"],
                **{column: values[column] or None for column in ("party", "email", "phone", "openstates_id", "source")},
            )
        )
    if not problems and expect_seats is not None:
        counts = Counter(row.chamber for row in rows)
        for chamber, expected in zip(CHAMBERS, expect_seats, strict=True):
            if counts[chamber] != expected:
                problems.append(
                    f"{counts[chamber]} {CHAMBER_TITLES[chamber]} seats, expected {expected}"
                    f" (a missing or extra row; another legislature's file: --expect-seats HOUSE,SENATE)"
                )
    _refuse(path, problems)
    if not rows:
        raise InvalidInput(f"{path}: refused, nothing imported: no legislators in the file")
    return rows


def read_towns(path: Path, legislators: list[Row]) -> list[TownRow]:
    """Every row of a towns file (town,chamber,district); each district must be one of the legislators'."""
    known = {(row.chamber, row.district) for row in legislators}
    problems: list[str] = []
    rows: list[TownRow] = []
    seen: dict[tuple[str, str, str], int] = {}
    for number, record in _records(path, TOWN_COLUMNS, TOWN_COLUMNS):
        if isinstance(record, str):
            problems.append(f"row {number}: {record}")
            continue
        town = " ".join((record.get("town") or "").split())
        district = (record.get("district") or "").strip()
        raw_chamber = (record.get("chamber") or "").strip()
        chamber = CHAMBER_NAMES.get(raw_chamber.lower())
        reasons = []
        if not town:
            reasons.append("empty town")
        elif len(town) > TOWN_LIMIT:
            reasons.append(f"town longer than {TOWN_LIMIT} characters")
        if chamber is None:
            reasons.append(f"chamber {raw_chamber!r} is not one of lower, upper, house, senate")
        elif not district:
            reasons.append("empty district")
        elif (chamber, district) not in known:
            reasons.append(f"{CHAMBER_TITLES[chamber]} district {district!r} is not in the legislators file")
        key = (town.casefold(), chamber or "", district)
        if town and key in seen:
            reasons.append(f"the same town and district as row {seen[key]}")
        seen.setdefault(key, number)
        if reasons:
            problems.append(f"row {number}: {', '.join(reasons)}")
        else:
            assert chamber is not None
            rows.append(TownRow(number, town, chamber, district))
    _refuse(path, problems)
    return rows


def _records(
    path: Path, columns: tuple[str, ...], required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(row number, record) for each data row, or (row number, what is wrong) for a row with too few or too many
    fields; InvalidInput for an unreadable file or missing columns."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark, as spreadsheets write, is not a column
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise InvalidInput(f"{path}: not UTF-8 text (byte {error.start}); save the file as CSV UTF-8") from None
    except OSError as error:
        raise InvalidInput(f"{path}: cannot be read ({error.strerror})") from None
    reader = csv.DictReader(text.splitlines(keepends=True), restkey=EXTRA)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in required if column not in header]
    if missing:
        raise InvalidInput(
            f"{path}: refused, nothing imported: row 1: missing column{'s' if len(missing) > 1 else ''}"
            f" {', '.join(missing)} (expected {','.join(columns)})"
        )
    reader.fieldnames = header
    for record in reader:
        # The line the row ends on: a spreadsheet's row number, for files without line breaks inside cells.
        extra = record.pop(EXTRA, None)
        if extra or None in record.values():
            fields = len(header) + len(extra or []) - sum(1 for value in record.values() if value is None)
            yield reader.line_num, f"{fields} fields where the header has {len(header)}"
            continue
        yield reader.line_num, record


def _lengths(values: dict[str, str]) -> list[str]:
    return [
        f"{column} longer than {limit} characters" for column, limit in LIMITS.items() if len(values[column]) > limit
    ]


def _refuse(path: Path, problems: list[str]) -> None:
    if not problems:
        return
    more = len(problems) - MAX_PROBLEMS
    listed = "; ".join(problems[:MAX_PROBLEMS]) + (f"; and {more} more problem(s)" if more > 0 else "")
    raise InvalidInput(f"{path}: refused, nothing imported: {listed}")


# --- writing the directory ----------------------------------------------------------------------------------


def replace_directory(session: Session, legislators: list[Row], towns: list[TownRow] | None) -> Imported:
    """Replace the directory with these rows, in the caller's transaction (so a failure leaves the old one).

    Without a towns file the stored towns stay, as long as every district they name is still in the new file.
    """
    districts = {(row.chamber, row.district) for row in legislators}
    if towns is None:
        stale = session.execute(select(DistrictTown.chamber, DistrictTown.district).distinct()).all()
        gone = sorted(f"{CHAMBER_TITLES.get(c, c)} {d}" for c, d in stale if (c, d) not in districts)
        if gone:
            raise InvalidInput(
                f"the stored towns name districts the new file lacks ({', '.join(gone[:5])}): "
                "give --towns FILE with the new districts' towns (a file with only its header drops them)"
            )
    now = dt.datetime.now(dt.UTC)
    if towns is not None:
        session.execute(delete(DistrictTown))
    session.execute(delete(Legislator))
    session.flush()
    session.add_all(
        Legislator(
            name=row.name,
            chamber=row.chamber,
            district=row.district,
            party=row.party,
            email=row.email,
            phone=row.phone,
            openstates_id=row.openstates_id,
            source=row.source,
            imported_at=now,
        )
        for row in legislators
    )
    if towns is not None:
        session.add_all(DistrictTown(chamber=row.chamber, district=row.district, town=row.town) for row in towns)
    session.flush()
    counts = Counter(row.chamber for row in legislators)
    return Imported(
        house=counts["house"],
        senate=counts["senate"],
        districts={chamber: sum(1 for c, _ in districts if c == chamber) for chamber in CHAMBERS},
        towns=session.scalar(select(func.count()).select_from(DistrictTown)) or 0,
        towns_replaced=towns is not None,
    )
