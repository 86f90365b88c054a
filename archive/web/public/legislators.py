"""Find your legislators: the /legislators page (GET /api/legislators is its JSON twin, archive.web.api)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from archive.errors import InvalidInput
from archive.legislators import CHAMBER_TITLES, districts, find_legislators, imported_at, towns
from archive.web.context import db, legislator_query, localized

legislators = Blueprint("legislators", __name__)


@legislators.get("/legislators")
def find() -> ResponseReturnValue:
    query = legislator_query()
    context = {
        "query": query,
        "districts": districts(db()),
        "towns": towns(db()),
        "titles": CHAMBER_TITLES,
        "imported_at": imported_at(db()),
    }
    if not query["town"] and not query["district"]:
        return render_template("public/legislators.html", lookup=None, error=None, **context)
    try:
        lookup = find_legislators(db(), **query)
    except InvalidInput as error:
        return render_template("public/legislators.html", lookup=None, error=localized(error), **context), 400
    return render_template("public/legislators.html", lookup=lookup, error=None, **context)
