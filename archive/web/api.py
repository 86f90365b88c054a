"""The JSON API under /api/ (docs/api.md, /api/openapi.json): errors are {"error": …} with a 4xx status."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from archive.db.models import SEGMENT_KINDS, Body, Meeting
from archive.errors import InvalidInput
from archive.publish.documents import meeting_document
from archive.search import PER_PAGE_MAX, SORTS, SearchRequest
from archive.web.page_cache import kept_for_visitors
from archive.web.speakers import person_record

api = Blueprint("api", __name__, url_prefix="/api")


def db():  # type: ignore[no-untyped-def]
    if "db" not in g:
        g.db = current_app.extensions["sessions"]()
    return g.db


@api.get("/search")
@kept_for_visitors(uses_index=True)
def search():  # type: ignore[no-untyped-def]
    search_request = search_request_from(request.args)
    page = current_app.extensions["search"].search(search_request)
    return jsonify(page.to_json())


@api.get("/meetings")
def meetings():  # type: ignore[no-untyped-def]
    """Meetings, newest first, optionally of one body (by its slug), paginated."""
    page, per_page = page_from(request.args)
    query = select(Meeting).options(selectinload(Meeting.body), selectinload(Meeting.recordings))
    count = select(func.count(Meeting.id))
    body_slug = (request.args.get("body") or "").strip()
    if body_slug:
        query = query.join(Body).where(Body.slug == body_slug)
        count = count.join(Body).where(Body.slug == body_slug)
    found = (
        db()
        .scalars(query.order_by(Meeting.date.desc(), Meeting.id.desc()).offset((page - 1) * per_page).limit(per_page))
        .all()
    )
    return jsonify(
        total=db().scalar(count),
        page=page,
        per_page=per_page,
        meetings=[
            {
                "slug": m.slug,
                "title": m.title,
                "date": m.date.isoformat(),
                "body": m.body.name,
                "body_slug": m.body.slug,
                "duration": m.duration,
                "url": f"/meetings/{m.slug}",
            }
            for m in found
        ],
    )


@api.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    from archive.web.openapi import document

    return jsonify(document())


@api.get("/meetings/<slug>")
@kept_for_visitors()
def meeting(slug: str):  # type: ignore[no-untyped-def]
    return jsonify(meeting_document(db(), slug))


@api.get("/speakers/<int:person_id>")
def speaker(person_id: int):  # type: ignore[no-untyped-def]
    page, per_page = page_from(request.args)
    return jsonify(person_record(db(), person_id, page, per_page))


def page_from(args, per_page: int = 50) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The page and page size of a listing; a 400 that names the parameter when they are not numbers."""
    return _whole(args, "page", 1, 1, 10_000), _whole(args, "per_page", per_page, 1, PER_PAGE_MAX)


def search_request_from(args) -> SearchRequest:  # type: ignore[no-untyped-def]
    """Validate query parameters; each problem is a 400 that names the parameter."""
    q = args.get("q", "")
    filters = {name: (args.get(name) or "").strip() or None for name in ("speaker", "kind", "meeting")}
    if not q.strip() and not any(filters.values()) and not (args.get("from") or args.get("to")):
        raise InvalidInput('q: type a word or a "quoted phrase" to search')
    if filters["kind"] and filters["kind"] not in SEGMENT_KINDS:
        raise InvalidInput(f"kind must be one of: {', '.join(SEGMENT_KINDS)}")
    sort = args.get("sort", "relevance")
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of: {', '.join(SORTS)}")
    return SearchRequest(
        q=q,
        date_from=_date(args, "from"),
        date_to=_date(args, "to"),
        sort=sort,
        page=_whole(args, "page", 1, 1, 10_000),
        per_page=_whole(args, "per_page", 20, 1, PER_PAGE_MAX),
        **filters,
    )


def _date(args, name: str) -> dt.date | None:  # type: ignore[no-untyped-def]
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a date in the form YYYY-MM-DD") from None


def _whole(args, name: str, default: int, low: int, high: int) -> int:  # type: ignore[no-untyped-def]
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number") from None
    if not low <= number <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}")
    return number
