"""GET /api/legislators: the directory, or the legislators of a town or district (the /legislators page's lookup)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from archive.legislators import find_legislators
from archive.web.context import db, legislator_query

legislators_api = Blueprint("legislators_api", __name__, url_prefix="/api")


@legislators_api.get("/legislators")
def api_find() -> ResponseReturnValue:
    """The directory, or the legislators of a town or district (InvalidInput is the app's JSON 400)."""
    return jsonify(find_legislators(db(), **legislator_query()).to_json())
