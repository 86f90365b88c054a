"""Cards for pages other than excerpts: a meeting's (its og:image) and the site's own (pages with no card).

Both are drawn by archive.excerpts.cards and cached by what they show, under <home>/cache/cards/.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, send_file
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from archive.db.models import Meeting
from archive.excerpts.cards import cached_card, meeting_card_text, site_card_text
from archive.privacy.view import public_title
from archive.web.context import db

share_cards = Blueprint("share_cards", __name__)

MAX_AGE = 3600


@share_cards.get("/meetings/<slug>/card.png")
def meeting_card(slug: str) -> ResponseReturnValue:
    settings = current_app.config["TESTIMONY"]
    meeting = db().scalar(select(Meeting).where(Meeting.slug == slug))
    if meeting is None:
        abort(404)
    seconds = sum(recording.duration for recording in meeting.recordings)
    text = meeting_card_text(public_title(db(), meeting), meeting.body.name, meeting.date, seconds, settings.site_name)
    db().rollback()
    return _send(cached_card(settings.home / "cache" / "cards" / "meetings", slug, text))


@share_cards.get("/card.png")
def site_card() -> ResponseReturnValue:
    settings = current_app.config["TESTIMONY"]
    return _send(cached_card(settings.home / "cache" / "cards" / "site", "site", site_card_text(settings.site_name)))


def _send(path: Path) -> Response:
    response: Response = send_file(path, mimetype="image/png", conditional=True, etag=path.stem, max_age=MAX_AGE)
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response
