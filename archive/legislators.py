"""The legislator directory: validated CSV imports that replace it whole, and lookups by district or town."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from archive.db.models import CHAMBERS, DistrictTown, Legislator
from archive.errors import InvalidInput

DATA_DIR = Path(__file__).with_name("data")
# The default data set: Vermont's General Assembly from Open States (see archive/data/README.md).
VERMONT_FILE = DATA_DIR / "vt_legislators.csv"
# Seats in the Vermont House and Senate. A file for another legislature passes its own (--expect-seats).
VERMONT_SEATS = (150, 30)

LEGISLATOR_COLUMNS = ("name", "chamber", "district", "party", "email", "phone", "openstates_id", "source")
REQUIRED_COLUMNS = ("name", "chamber", "district", "email")
TOWN_COLUMNS = ("town", "chamber", "district")
# Open States calls the chambers lower and upper; a file may also say house and senate.
CHAMBER_NAMES = {"lower": "house", "upper": "senate", "house": "house", "senate": "senate"}
CHAMBER_TITLES = {"house": "House", "senate": "Senate"}
# One address, no spaces, quotes or angle brackets (it goes into mailto: links and, later, To: headers).
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&*+/=?^_`{|}~'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
LIMITS = {"name": 200, "district": 100, "party": 100, "email": 320, "phone": 50, "openstates_id": 100, "source": 500}
TOWN_LIMIT = 200
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


@dataclass
class ChamberMatch:
    """A chamber's districts for a lookup: one (or the chosen one) gives its legislators; several ask to choose."""

    chamber: str
    districts: list[str]
    chosen: str | None = None
    legislators: list[Legislator] = field(default_factory=list)

    @property
    def split(self) -> bool:
        return self.chosen is None and len(self.districts) > 1


@dataclass
class Lookup:
    town: str | None
    district: str | None
    chamber: str | None
    towns_available: bool
    matches: list[ChamberMatch]
    message: str | None = None

    @property
    def legislators(self) -> list[Legislator]:
        return [person for match in self.matches for person in match.legislators]

    def to_json(self) -> dict[str, object]:
        return {
            "query": {"town": self.town, "district": self.district, "chamber": self.chamber},
            "towns_available": self.towns_available,
            "candidates": [
                {"chamber": m.chamber, "districts": m.districts, "chosen": m.chosen, "split": m.split}
                for m in self.matches
            ],
            "legislators": [legislator_json(person) for person in self.legislators],
            "message": self.message,
        }


def legislator_json(person: Legislator) -> dict[str, str | None]:
    return {
        "name": person.name,
        "chamber": person.chamber,
        "district": person.district,
        "party": person.party,
        "email": person.email,
        "phone": person.phone,
        "openstates_id": person.openstates_id,
    }


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


# --- looking up ---------------------------------------------------------------------------------------------


def district_key(name: str) -> tuple[object, ...]:
    """Natural order: Addison-2 before Addison-10."""
    return tuple(int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name))


def list_legislators(session: Session, chamber: str | None = None, district: str | None = None) -> list[Legislator]:
    query = select(Legislator)
    if chamber:
        query = query.where(Legislator.chamber == chamber)
    if district:
        query = query.where(func.lower(Legislator.district) == district.strip().lower())
    people = session.scalars(query).all()
    order = {name: index for index, name in enumerate(CHAMBERS)}
    return sorted(people, key=lambda p: (order.get(p.chamber, 9), district_key(p.district), p.name.casefold()))


def districts(session: Session) -> dict[str, list[str]]:
    """Each chamber's districts, in natural order."""
    rows = session.execute(select(Legislator.chamber, Legislator.district).distinct()).all()
    return {chamber: sorted((d for c, d in rows if c == chamber), key=district_key) for chamber in CHAMBERS}


def towns(session: Session) -> list[str]:
    return sorted(set(session.scalars(select(DistrictTown.town))), key=str.casefold)


def check_query(town: str | None, district: str | None, chamber: str | None) -> None:
    """InvalidInput (a 400 at the web's edge) for parameters no lookup could answer."""
    if chamber and chamber not in CHAMBERS:
        raise InvalidInput(f"chamber must be one of: {', '.join(CHAMBERS)}")
    if town and len(town) > TOWN_LIMIT:
        raise InvalidInput(f"town must be at most {TOWN_LIMIT} characters")
    if district and len(district) > LIMITS["district"]:
        raise InvalidInput(f"district must be at most {LIMITS['district']} characters")
    for name, value in (("town", town), ("district", district)):
        if value and any(ord(character) < 32 for character in value):
            raise InvalidInput(f"{name} must not contain control characters")


def find_legislators(
    session: Session, town: str | None = None, district: str | None = None, chamber: str | None = None
) -> Lookup:
    """A supporter's legislators by town (every candidate district of a split town) or by district."""
    town = " ".join((town or "").split()) or None
    district = (district or "").strip() or None
    chamber = (chamber or "").strip() or None
    check_query(town, district, chamber)
    towns_available = session.scalar(select(func.count()).select_from(DistrictTown)) != 0
    lookup = Lookup(town, district, chamber, towns_available, [])
    chambers = [chamber] if chamber else list(CHAMBERS)
    if town:
        if not towns_available:
            lookup.message = "Finding legislators by town is not available here yet: choose your district below."
            return lookup
        rows = session.execute(
            select(DistrictTown.chamber, DistrictTown.district, DistrictTown.town).where(
                func.lower(DistrictTown.town) == town.lower()
            )
        ).all()
        if not rows:
            lookup.message = (
                f"No town named {town!r} in the directory: check the spelling, or choose your district below."
            )
            return lookup
        lookup.town = rows[0].town  # as the towns file spells it
        for name in chambers:
            found = sorted({d for c, d, _ in rows if c == name}, key=district_key)
            if found:
                chosen = next((d for d in found if district and d.lower() == district.lower()), None)
                if chosen is None and len(found) == 1:
                    chosen = found[0]
                lookup.matches.append(ChamberMatch(name, found, chosen))
        splits = [m for m in lookup.matches if m.split]
        if splits:
            lookup.message = " ".join(
                f"{lookup.town} is split between {CHAMBER_TITLES[m.chamber]} districts {_words(m.districts)}:"
                " choose yours."
                for m in splits
            )
    elif district:
        found = session.execute(
            select(Legislator.chamber, Legislator.district)
            .where(func.lower(Legislator.district) == district.lower(), Legislator.chamber.in_(chambers))
            .distinct()
        ).all()
        lookup.matches = [ChamberMatch(c, [d], d) for c, d in sorted(found, key=lambda r: CHAMBERS.index(r[0]))]
        if not found:
            lookup.message = f"No district named {district!r}: choose your district from the list below."
    else:
        lookup.matches = [
            ChamberMatch(name, found, None) for name, found in districts(session).items() if name in chambers
        ]
        for match in lookup.matches:
            match.legislators = list_legislators(session, chamber=match.chamber)
        return lookup
    for match in lookup.matches:
        if match.chosen:
            match.legislators = list_legislators(session, chamber=match.chamber, district=match.chosen)
    return lookup


def _words(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
