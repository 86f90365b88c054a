"""Find your legislators: the /legislators page and GET /api/legislators, one lookup behind both."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request

from archive.errors import InvalidInput
from archive.legislators import CHAMBER_TITLES, districts, find_legislators, imported_at, towns
from archive.web.api import db

legislators = Blueprint("legislators", __name__)


def _query() -> dict[str, Any]:
    """town, district (may repeat: one choice per chamber of a split town) and chamber, as given."""
    return {
        "town": (request.args.get("town") or "").strip() or None,
        "district": [name.strip() for name in request.args.getlist("district") if name.strip()],
        "chamber": (request.args.get("chamber") or "").strip() or None,
    }


@legislators.get("/legislators")
def find():  # type: ignore[no-untyped-def]
    query = _query()
    context = {
        "query": query,
        "districts": districts(db()),
        "towns": towns(db()),
        "titles": CHAMBER_TITLES,
        "imported_at": imported_at(db()),
    }
    if not query["town"] and not query["district"]:
        return render_template("legislators.html", lookup=None, error=None, **context)
    try:
        lookup = find_legislators(db(), **query)
    except InvalidInput as error:
        return render_template("legislators.html", lookup=None, error=str(error), **context), 400
    return render_template("legislators.html", lookup=lookup, error=None, **context)


@legislators.get("/api/legislators")
def api_find():  # type: ignore[no-untyped-def]
    """The directory, or the legislators of a town or district (InvalidInput is the app's JSON 400)."""
    return jsonify(find_legislators(db(), **_query()).to_json())
