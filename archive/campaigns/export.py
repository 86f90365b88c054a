"""A campaign's supporters as CSV, for its organizers: every cell people typed is neutralised for spreadsheets."""

from __future__ import annotations

import csv
import datetime as dt
import io

from archive.db.models import Letter
from archive.publish.formats import neutralise_formula

SUPPORTER_COLUMNS = ("name", "email", "town", "status", "created_at", "confirmed_at")


def _moment(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat(timespec="seconds")


def supporters_csv(letters: list[Letter]) -> str:
    """One row per letter. A name like =HYPERLINK(…) would run as a formula when opened: it gets a leading '."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SUPPORTER_COLUMNS)
    for letter in letters:
        writer.writerow(
            [
                neutralise_formula(cell)
                for cell in (
                    letter.supporter_name,
                    letter.supporter_email,
                    letter.town,
                    letter.status,
                    _moment(letter.created_at),
                    _moment(letter.confirmed_at),
                )
            ]
        )
    return out.getvalue()
