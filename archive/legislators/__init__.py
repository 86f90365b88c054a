"""The legislator directory: validated imports of legislators and towns, and lookups by town or district."""

from archive.legislators.directory import (
    CHAMBER_TITLES,
    VERMONT_FILE,
    VERMONT_SEATS,
    VERMONT_TOWNS,
    Imported,
    parse_seats,
    read_legislators,
    read_towns,
    replace_directory,
)
from archive.legislators.lookup import (
    ChamberMatch,
    Lookup,
    district_key,
    districts,
    find_legislators,
    imported_at,
    legislator_json,
    list_legislators,
    towns,
)

__all__ = [
    "CHAMBER_TITLES",
    "VERMONT_FILE",
    "VERMONT_SEATS",
    "VERMONT_TOWNS",
    "ChamberMatch",
    "Imported",
    "Lookup",
    "district_key",
    "districts",
    "find_legislators",
    "imported_at",
    "legislator_json",
    "list_legislators",
    "parse_seats",
    "read_legislators",
    "read_towns",
    "replace_directory",
    "towns",
]
