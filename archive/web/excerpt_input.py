"""Excerpts made from a form or from a JSON body: one path from input to a stored excerpt, shared by the page's
form (archive.web.public.excerpts) and the API (archive.web.api.excerpts)."""

from __future__ import annotations

import hmac
import math
import re
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from archive.db.models import Excerpt
from archive.db.types import utcnow
from archive.errors import InvalidInput
from archive.excerpts.citations import citations
from archive.excerpts.manage import ExcerptDocument, create_excerpt, excerpt_document, find_excerpt
from archive.timecodes import parse_clock
from archive.web.context import db, site_url

KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")  # an idempotency key, from a form or a header


class Refused(Exception):
    """The editor token is missing, wrong, or making excerpts is switched off."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def check_token(given: str | None) -> None:
    expected = current_app.config["TESTIMONY"].editor_token
    if not expected:
        raise Refused(
            "Making excerpts is switched off on this site: no editor token is configured (TESTIMONY_EDITOR_TOKEN).",
            403,
        )
    if not given:
        raise Refused("Give the editor token to make an excerpt.", 401)
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise Refused("That editor token is not right; nothing was saved.", 403)


def time_from(value: Any, name: str) -> float:
    """Seconds from a form or JSON value: a number, or text as seconds or h:mm:ss."""
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidInput(f"{name}: give a time (seconds or h:mm:ss)")
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds) or seconds < 0:
            raise InvalidInput(f"{name}: {value!r} is not a time")
        return seconds
    if isinstance(value, str):
        try:
            return parse_clock(value)
        except InvalidInput as error:
            raise InvalidInput(f"{name}: {error}") from None
    raise InvalidInput(f"{name}: give a time (seconds or h:mm:ss)")


def text_from(value: Any, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidInput(f"{name} must be text")


def _by_key(key: str | None) -> Excerpt | None:
    if not key:
        return None
    return db().scalar(select(Excerpt).where(Excerpt.idempotency_key == key))


def make(
    meeting: str, start: Any, end: Any, title: Any, note: Any, *, key: str | None, created_by: str
) -> tuple[Excerpt, bool]:
    """The one path from input to a stored excerpt: (excerpt, made now); a known key returns its excerpt."""
    session = db()
    earlier = _by_key(key)
    if earlier is not None:
        return earlier, False
    try:
        excerpt = create_excerpt(
            session,
            meeting,
            time_from(start, "start"),
            time_from(end, "end"),
            text_from(title, "title") or "",
            note=text_from(note, "note"),
            created_by=created_by,
        )
        excerpt.idempotency_key = key
        session.commit()
    except IntegrityError:
        # The same key committed by a concurrent request (a double click): that one is the excerpt.
        session.rollback()
        earlier = _by_key(key)
        if earlier is None:
            raise
        return earlier, False
    except Exception:
        session.rollback()
        raise
    return excerpt, True


class CitedExcerpt(ExcerptDocument):
    """An excerpt's document with its citations in every style (the page and GET /api/excerpts/<slug>)."""

    citations: dict[str, str]


def document_with_citations(slug: str) -> CitedExcerpt:
    document = excerpt_document(db(), find_excerpt(db(), slug))
    settings = current_app.config["TESTIMONY"]
    accessed = utcnow().date()
    cited = citations(document, base_url=site_url(), site_name=settings.site_name, accessed=accessed)
    return CitedExcerpt(**document, citations=cited)
