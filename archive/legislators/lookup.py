"""Finding a supporter's legislators: by town (every candidate district of a split town) or by district."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db.models import CHAMBERS, DistrictTown, Legislator
from archive.errors import InvalidInput
from archive.legislators.directory import CHAMBER_TITLES, LIMITS, QUOTED, TOWN_LIMIT
from archive.legislators.towns import match_town
from archive.locales import Text

# Said beside a split town's districts: street-level boundaries are not in the directory.
HOW_TO_CHOOSE = Text(
    "Not sure which district is yours? Your voter registration (the Secretary of State's My Voter Page),"
    " your sample ballot or your town clerk says which."
)


@dataclass
class ChamberMatch:
    """A chamber's districts for a lookup: one (or the chosen one) gives its legislators; several ask to choose."""

    chamber: str
    districts: list[str]
    chosen: str | None = None
    split: bool = False  # the town lies in several of this chamber's districts
    legislators: list[Legislator] = field(default_factory=list)


@dataclass
class Lookup:
    town: str | None
    districts: list[str]
    chamber: str | None
    towns_available: bool
    matches: list[ChamberMatch]
    message: str | None = None
    # Towns to choose from when the typed name is not one town: "Barre" (Barre City, Barre Town), or a typo's
    # close spellings ("Middlebery": Middlebury).
    suggestions: list[str] = field(default_factory=list)

    @property
    def hint(self) -> str | None:
        """How to find one's district, while a split town's districts wait for a choice."""
        return HOW_TO_CHOOSE if any(m.chosen is None and m.split for m in self.matches) else None

    @property
    def legislators(self) -> list[Legislator]:
        return [person for match in self.matches for person in match.legislators]

    @property
    def choices(self) -> list[str]:
        """The districts chosen so far in a split town's chambers (kept in the links that choose the next)."""
        return [m.chosen for m in self.matches if m.split and m.chosen]

    def to_json(self) -> dict[str, object]:
        return {
            "query": {"town": self.town, "districts": self.districts, "chamber": self.chamber},
            "towns_available": self.towns_available,
            "candidates": [
                {"chamber": m.chamber, "districts": m.districts, "chosen": m.chosen, "split": m.split}
                for m in self.matches
            ],
            "legislators": [legislator_json(person) for person in self.legislators],
            "message": self.message,
            "hint": self.hint,
            "suggestions": self.suggestions,
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


# ---------------------------------------------------------------------------------------------


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


def imported_at(session: Session) -> dt.datetime | None:
    """When the directory was last imported (None: never)."""
    return session.scalar(select(func.max(Legislator.imported_at)))


def towns(session: Session) -> list[str]:
    return sorted(set(session.scalars(select(DistrictTown.town))), key=str.casefold)


def check_query(town: str | None, districts: list[str], chamber: str | None) -> None:
    """InvalidInput (a 400 at the web's edge) for parameters no lookup could answer."""
    if chamber and chamber not in CHAMBERS:
        raise InvalidInput(f"chamber must be one of: {', '.join(CHAMBERS)}")
    if town and len(town) > TOWN_LIMIT:
        raise InvalidInput(f"town must be at most {TOWN_LIMIT} characters")
    if len(districts) > len(CHAMBERS):
        raise InvalidInput(f"district: give at most {len(CHAMBERS)} (one per chamber)")
    if any(len(district) > LIMITS["district"] for district in districts):
        raise InvalidInput(f"district must be at most {LIMITS['district']} characters")
    for name, values in (("town", [town or ""]), ("district", districts)):
        if any(ord(character) < 32 for value in values for character in value):
            raise InvalidInput(f"{name} must not contain control characters")


def find_legislators(
    session: Session,
    town: str | None = None,
    district: str | list[str] | None = None,
    chamber: str | None = None,
) -> Lookup:
    """A supporter's legislators by town (every candidate district of a split town, until they choose one) or by
    district; with neither, the whole directory. `district` may name one district per chamber."""
    town = " ".join((town or "").split()) or None
    wanted = [district] if isinstance(district, str) else list(district or [])
    wanted = list(dict.fromkeys(name.strip() for name in wanted if name and name.strip()))
    chamber = (chamber or "").strip() or None
    check_query(town, wanted, chamber)
    towns_available = session.scalar(select(func.count()).select_from(DistrictTown)) != 0
    lookup = Lookup(town, wanted, chamber, towns_available, [])
    chambers = [chamber] if chamber else list(CHAMBERS)
    folded = {name.casefold() for name in wanted}
    if town:
        if not towns_available:
            lookup.message = Text("Finding legislators by town is not available here yet: choose your district below.")
            return lookup
        found_town = match_town(town, towns(session))
        if found_town.town is None:
            lookup.suggestions = found_town.choices
            if found_town.ambiguous:
                lookup.message = Text(
                    "There is more than one %(town)s: %(choices)s?",
                    town=QUOTED.format(town),
                    choices=_or(found_town.choices),
                )
            elif found_town.choices:
                lookup.message = Text(
                    "No town named %(town)s in the directory. Did you mean %(choices)s?",
                    town=QUOTED.format(town),
                    choices=_or(found_town.choices),
                )
            else:
                lookup.message = Text(
                    "No town named %(town)s in the directory: check the spelling, or choose your district below.",
                    town=QUOTED.format(town),
                )
            return lookup
        rows = session.execute(
            select(DistrictTown.chamber, DistrictTown.district, DistrictTown.town).where(
                DistrictTown.town == found_town.town
            )
        ).all()
        lookup.town = rows[0].town  # as the towns file spells it
        for name in chambers:
            found = sorted({d for c, d, _ in rows if c == name}, key=district_key)
            if found:
                chosen = next((d for d in found if d.casefold() in folded), found[0] if len(found) == 1 else None)
                lookup.matches.append(ChamberMatch(name, found, chosen, split=len(found) > 1))
        undecided = [m for m in lookup.matches if m.chosen is None]
        if undecided:
            said = [
                Text(
                    "%(town)s is split between %(chamber)s districts %(districts)s: choose yours.",
                    town=lookup.town,
                    chamber=CHAMBER_TITLES[m.chamber],
                    districts=_and(m.districts),
                )
                for m in undecided
            ]
            # TRANSLATORS: two sentences, one per chamber, one after the other.
            lookup.message = said[0] if len(said) == 1 else Text("%(first)s %(second)s", first=said[0], second=said[1])
    elif wanted:
        named = session.execute(
            select(Legislator.chamber, Legislator.district)
            .where(func.lower(Legislator.district).in_([name.lower() for name in wanted]))
            .where(Legislator.chamber.in_(chambers))
            .distinct()
        ).all()
        lookup.matches = [ChamberMatch(c, [d], d) for c, d in sorted(named, key=lambda r: CHAMBERS.index(r[0]))]
        missing = [name for name in wanted if name.casefold() not in {d.casefold() for _, d in named}]
        if missing:
            names = _and([QUOTED.format(name) for name in missing])
            lookup.message = (
                Text(
                    "No district named %(names)s in the %(chamber)s: choose your district from the list below.",
                    names=names,
                    chamber=CHAMBER_TITLES[chamber],
                )
                if chamber
                else Text("No district named %(names)s: choose your district from the list below.", names=names)
            )
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


def _and(names: list[str]) -> str:
    """'A, B and C', in the words of the page that shows it."""
    return names[0] if len(names) == 1 else Text("%(some)s and %(last)s", some=", ".join(names[:-1]), last=names[-1])


def _or(names: list[str]) -> str:
    """'A, B or C', in the words of the page that shows it."""
    return names[0] if len(names) == 1 else Text("%(some)s or %(last)s", some=", ".join(names[:-1]), last=names[-1])
