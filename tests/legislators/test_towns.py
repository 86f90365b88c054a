"""Typing a town: every town of the shipped Vermont file, its variants (case, accents, St./Saint, City/Town) and
typos, matched without a database; then through the real lookup on the bundled directory (SQLite: the matching
is Python's, not the dialect's)."""

from __future__ import annotations

import csv
from collections import defaultdict

import pytest

from archive.cli.main import main
from archive.legislators import VERMONT_TOWNS, find_legislators
from archive.legislators.lookup import HOW_TO_CHOOSE
from archive.legislators.towns import match_town, town_key


def shipped() -> dict[str, dict[str, set[str]]]:
    """town → chamber → its districts, read straight from the shipped file (the truth the lookup must give)."""
    towns: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    with VERMONT_TOWNS.open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            towns[row["town"]][row["chamber"]].add(row["district"])
    return towns


TOWNS = shipped()
NAMES = sorted(TOWNS)


def test_the_shipped_towns_file_is_what_its_readme_says() -> None:
    with VERMONT_TOWNS.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 532 and len(NAMES) == 247
    assert all(set(TOWNS[town]) == {"house", "senate"} for town in NAMES)
    # `part` marks exactly the towns that lie in more than one district of a chamber.
    parted = {(r["chamber"], r["town"]) for r in rows if r["part"] == "part"}
    assert parted == {(c, t) for t in NAMES for c, found in TOWNS[t].items() if len(found) > 1}
    assert sum(1 for c, _ in parted if c == "house") == 24 and sum(1 for c, _ in parted if c == "senate") == 3
    assert "vt_district_towns.csv" in (VERMONT_TOWNS.parent / "README.md").read_text(encoding="utf-8")


def test_every_town_is_found_by_its_name_in_any_case() -> None:
    for town in NAMES:
        for typed in (town, town.lower(), town.upper(), f"  {town}  ", f"{town}, VT"):
            assert match_town(typed, NAMES).town == town, typed


@pytest.mark.parametrize(
    ("typed", "town"),
    [
        ("st albans city", "St. Albans City"),
        ("Saint Albans Town", "St. Albans Town"),
        ("ST. JOHNSBURY", "St. Johnsbury"),
        ("Saint George", "St. George"),
        ("Saint-Johnsbury", "St. Johnsbury"),
        ("city of barre", "Barre City"),
        ("Town of Rutland", "Rutland Town"),
        ("Rutland city", "Rutland City"),
        ("Cornwall Town", "Cornwall"),
        ("Mt. Holly", "Mount Holly"),
        ("Essex Jct", "Essex Junction"),
        ("Bérlin", "Berlin"),  # accents forgiven
        ("MIDDLEBURY", "Middlebury"),
        ("Isle la motte", "Isle La Motte"),
    ],
)
def test_variants_find_their_town(typed: str, town: str) -> None:
    assert match_town(typed, NAMES).town == town


@pytest.mark.parametrize(
    ("typed", "choices"),
    [
        ("St Albans", ["St. Albans City", "St. Albans Town"]),
        ("Barre", ["Barre City", "Barre Town"]),
        ("rutland", ["Rutland City", "Rutland Town"]),
        ("Newport", ["Newport City", "Newport Town"]),
    ],
)
def test_a_city_and_a_town_of_one_name_are_both_offered(typed: str, choices: list[str]) -> None:
    found = match_town(typed, NAMES)
    assert (found.town, found.choices, found.ambiguous) == (None, choices, True)


@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("Middlebery", "Middlebury"),
        ("Burlingotn", "Burlington"),
        ("Montpellier", "Montpelier"),
        ("Brattelboro", "Brattleboro"),
        ("Wiliston", "Williston"),
        ("St Johnsberry", "St. Johnsbury"),
    ],
)
def test_a_typo_offers_close_names_and_guesses_none(typed: str, offered: str) -> None:
    found = match_town(typed, NAMES)
    assert found.town is None and not found.ambiguous
    assert offered in found.choices and len(found.choices) <= 5


def test_nothing_near_offers_nothing() -> None:
    assert match_town("Atlantis", NAMES).choices == [] and match_town("   ", NAMES).town is None
    assert town_key("City of St. Albans, Vermont") == "saint albans city"


@pytest.fixture
def bundled(runner, sessions):  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["legislators", "import"])
    assert result.exit_code == 0, result.output
    return sessions


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_shipped_town_resolves_to_exactly_its_districts(bundled) -> None:  # type: ignore[no-untyped-def]
    """Each of the 247 towns: a whole town gives its legislators at once; a split town offers exactly the
    districts the file gives it, none chosen, with the line on how to find yours."""
    split = 0
    with bundled() as session:
        for town in NAMES:
            lookup = find_legislators(session, town=town.lower())
            assert lookup.town == town
            assert {m.chamber: set(m.districts) for m in lookup.matches} == TOWNS[town], town
            for match in lookup.matches:
                if len(TOWNS[town][match.chamber]) > 1:
                    split += 1
                    assert (match.split, match.chosen, match.legislators) == (True, None, [])
                else:
                    assert match.chosen in TOWNS[town][match.chamber] and match.legislators
                    assert {p.district for p in match.legislators} == {match.chosen}
            assert (lookup.hint == HOW_TO_CHOOSE) == any(len(d) > 1 for d in TOWNS[town].values())
    assert split == 27


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_typo_or_a_twin_town_asks_which_town(bundled) -> None:  # type: ignore[no-untyped-def]
    with bundled() as session:
        twin = find_legislators(session, town="st albans")
        assert twin.matches == [] and twin.suggestions == ["St. Albans City", "St. Albans Town"]
        assert twin.message == "There is more than one “st albans”: St. Albans City or St. Albans Town?"
        typo = find_legislators(session, town="Middlebery")
        assert typo.suggestions == ["Middlebury"] and "Did you mean Middlebury?" in (typo.message or "")
        assert typo.to_json()["suggestions"] == ["Middlebury"]
