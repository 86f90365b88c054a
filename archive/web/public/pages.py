"""The public pages: home, search, meetings (with their media, captions and downloads), speakers."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote as url_quote
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    get_template_attribute,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from archive.config import EMAIL_ADDRESS, WEB_ADDRESS
from archive.curation.interpretations import suggested_links
from archive.curation.overlaps import meeting_overlaps
from archive.db.models import Body, Meeting, Recording
from archive.errors import InvalidInput
from archive.media.store import MEDIA_TYPES
from archive.privacy.audio import public_copy
from archive.privacy.view import public_title, redact_phrases, silenced_ranges, speaker_colour, withheld_phrases
from archive.publish.documents import excerpt_documents, excerpt_query, meeting_document
from archive.publish.formats import CONTENT_TYPES, FORMATS, render
from archive.publish.people import meeting_voices, person_record, speaker_index
from archive.timecodes import format_clock
from archive.web.context import (
    content_version,
    db,
    localized,
    page_from,
    run_search,
    search_request_from,
    site_url,
    stored_media,
)
from archive.web.page_cache import kept_for_visitors

pages = Blueprint("pages", __name__)

LOW_PROBABILITY = 0.5  # words Whisper was less sure of are marked on the page


@pages.get("/")
def home() -> ResponseReturnValue:
    meetings = (
        db()
        .scalars(
            select(Meeting)
            .options(selectinload(Meeting.body))
            .order_by(Meeting.date.desc(), Meeting.id.desc())
            .limit(10)
        )
        .all()
    )
    return render_template("public/home.html", meetings=meetings)


# The parameters the search page keeps in its links: only these, so a crafted URL cannot pass url_for's own
# arguments (_external, _scheme, _anchor) into the page's links.
SEARCH_PARAMETERS = ("q", "speaker", "kind", "meeting", "body", "lang", "from", "to", "sort", "per_page", "page")
FILTERS = ("q", "speaker", "kind", "meeting", "body", "lang", "from", "to")
FACET_VALUES_SHOWN = 10  # the most frequent values of each facet the page lists (the API gives them all)


@pages.get("/search")
@kept_for_visitors(uses_index=True, parameters=SEARCH_PARAMETERS)
def search() -> ResponseReturnValue:
    args = {name: request.args[name] for name in SEARCH_PARAMETERS if name in request.args}
    names = search_names()
    bodies, titles = names.bodies, names.titles
    if not any((args.get(name) or "").strip() for name in FILTERS):
        return render_template("public/search.html", page=None, args=args, error=None, bodies=bodies, titles={})
    try:
        search_request = search_request_from(args)
    except InvalidInput as error:
        shown = render_template(
            "public/search.html", page=None, args=args, error=localized(error), bodies=bodies, titles={}
        )
        return shown, 400
    page = run_search(search_request)
    return render_template(
        "public/search.html",
        page=page,
        args=args,
        error=None,
        bodies=bodies,
        titles=titles,
        facet_values_shown=FACET_VALUES_SHOWN,
    )


@dataclass(frozen=True)
class SearchNames:
    """What a search page names besides its hits: the bodies to choose from, and meetings by their titles (the
    facet's meetings and the one filtered by), as of one content_version."""

    content_version: int
    bodies: list[tuple[str, str]]  # (slug, name), by name
    titles: dict[str, str]  # every meeting's public title (phrases withheld) by its slug


def search_names() -> SearchNames:
    """This app's SearchNames, read from the database again only when content_version has changed: every new
    query renders a search page, and these two queries were a tenth of one (content_version is read anyway)."""
    current = content_version()
    kept: SearchNames | None = current_app.extensions.get("search_names")
    if kept is None or kept.content_version != current:
        bodies = [(slug, name) for slug, name in db().execute(select(Body.slug, Body.name).order_by(Body.name))]
        phrases = withheld_phrases(db())  # a phrase withheld in a meeting is withheld in its title
        titles = {
            slug: redact_phrases(title, phrases.get(meeting_id, []))
            for meeting_id, slug, title in db().execute(select(Meeting.id, Meeting.slug, Meeting.title))
        }
        kept = current_app.extensions["search_names"] = SearchNames(current, bodies, titles)
    return kept


@pages.get("/meetings")
def meetings() -> ResponseReturnValue:
    body_slug = request.args.get("body") or None
    query = select(Meeting).options(selectinload(Meeting.body)).order_by(Meeting.date.desc(), Meeting.id.desc())
    if body_slug:
        query = query.join(Body).where(Body.slug == body_slug)
    bodies = db().scalars(select(Body).order_by(Body.name)).all()
    return render_template("public/meetings.html", meetings=db().scalars(query).all(), bodies=bodies, body=body_slug)


@pages.get("/meetings/<slug>")
@kept_for_visitors(parameters=("t",))
def meeting(slug: str) -> ResponseReturnValue:
    found = db().scalar(select(Meeting).where(Meeting.slug == slug))
    if found is None:
        abort(404)
    document = meeting_document(db(), slug)  # consent and redactions applied (archive.privacy)
    start = _start_second(request.args.get("t"))
    voices = meeting_voices(db(), found.id)
    segments = cast(list[dict[str, Any]], document["segments"])
    return render_template(
        "public/meeting.html",
        meeting=found,
        document=document,
        voices=voices,
        # The page marks each line for display (its unsure words): the document's lines, as plain dicts.
        turns=_turns(segments, {voice["label"]: voice for voice in voices}),
        # The line ?t= lands on (marked, and scrolled to by landing.js when the address has no #fragment).
        landing=landing_line(segments, start) if "t" in request.args else None,
        report=_report_links(found, start or None),  # the second ?t= opened the page at, if any
        start=start,
        low_probability=LOW_PROBABILITY,
        formats=FORMATS,
        notices=document["notices"],
        line_starts={line["id"]: line["start"] for line in document["segments"]},
        overlaps=meeting_overlaps(db(), found.id),  # shown to curators only, to listen to
        # The machine's interpretation links, for curators to confirm (the template shows them only to them).
        suggested=suggested_links(db(), found.id),
    )


@pages.get("/meetings/<slug>.<fmt>")
@kept_for_visitors(parameters=("lang",))  # the captions track: every visitor's player asks for it with the page
def meeting_export(slug: str, fmt: str) -> ResponseReturnValue:
    if fmt not in FORMATS:
        abort(404)
    if db().scalar(select(Meeting.id).where(Meeting.slug == slug)) is None:
        abort(404)
    language = request.args.get("lang") or None  # one language's lines: a captions track per language
    body = render(meeting_document(db(), slug), fmt, language)
    response = Response(body, mimetype=CONTENT_TYPES.get(fmt, "text/plain"))
    if fmt != "vtt":  # the captions track is read by the player; the rest are downloads
        name = f"{slug}.{language}.{fmt}" if language else f"{slug}.{fmt}"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@pages.get("/speakers")
def speakers() -> ResponseReturnValue:
    """Everyone on record, with how many meetings and statements: the way in to a speaker's page."""
    return render_template("public/speakers.html", people=speaker_index(db()))


@pages.get("/excerpts")
def excerpt_index() -> ResponseReturnValue:
    """Excerpts, newest first: what organizers cut from the meetings to cite and share."""
    page, per_page = page_from(request.args, per_page=20)
    documents = excerpt_documents(db(), offset=(page - 1) * per_page, limit=per_page)
    total = db().scalar(select(func.count()).select_from(excerpt_query().order_by(None).subquery())) or 0
    pages_count = max(1, -(-total // per_page))
    return render_template("public/excerpts.html", excerpts=documents, page=page, pages=pages_count)


@pages.get("/speakers/<int:person_id>")
def speaker(person_id: int) -> ResponseReturnValue:
    page, per_page = page_from(request.args)
    record = person_record(db(), person_id, page, per_page)
    pages_count = max(1, -(-record["total"] // per_page))
    return render_template("public/speaker.html", record=record, pages=pages_count, args=request.args)


@pages.get("/meetings/<slug>/recordings/<int(max=1000000):position><suffix>")  # beyond: no such row (a 404)
def recording(slug: str, position: int, suffix: str) -> ResponseReturnValue:
    row = db().scalar(select(Recording).join(Meeting).where(Meeting.slug == slug, Recording.position == position))
    if row is None or row.suffix != suffix:
        abort(404)
    settings = current_app.config["TESTIMONY"]
    original = stored_media(row.sha256, row.suffix)  # a 503 with a sentence when the file is gone
    # Anything withheld in it (archive.privacy): the public copy, silenced there; the original is curators' only.
    copy = public_copy(settings, row, silenced_ranges(db(), row.meeting))
    media_type: str | None
    if copy is not None:
        path, media_type, etag = copy.path, copy.media_type, copy.key
    else:
        path = original
        media_type = MEDIA_TYPES.get(row.suffix) or mimetypes.guess_type(path.name)[0]
        etag = row.sha256
    db().rollback()
    # conditional=True answers Range requests with 206 Partial Content, so players can seek.
    response = send_file(path, mimetype=media_type, conditional=True, etag=etag, max_age=0)
    # Revalidated on every use (a 304 by ETag): a redaction made later must reach every cache at once.
    response.headers["Cache-Control"] = "public, no-cache"
    return response


def _report_links(meeting: Meeting, second: float | None) -> dict[str, str]:
    """Where a reader reports an error in this transcript: the configured form or tracker, and a prefilled email
    naming the meeting (and the second the page was opened at) with the page's address. Empty: neither is set."""
    settings = current_app.config["TESTIMONY"]
    links: dict[str, str] = {}
    if settings.report_url and WEB_ADDRESS.fullmatch(settings.report_url):
        links["url"] = settings.report_url
    if settings.report_email and EMAIL_ADDRESS.fullmatch(settings.report_email):
        where = f" at {format_clock(second)}" if second is not None else ""
        subject = f"Transcript error: {public_title(db(), meeting)} ({meeting.date.isoformat()}){where}"
        page = site_url() + url_for("pages.meeting", slug=meeting.slug, t=int(second) if second is not None else None)
        body = f"Page: {page}\n\nWhat the transcript says, and what was said:\n"
        # Spaces as %20, not +: mail programs do not decode + in mailto: links.
        links["email"] = f"mailto:{settings.report_email}?" + urlencode(
            {"subject": subject, "body": body}, quote_via=url_quote
        )
    return links


def landing_line(segments: list[dict[str, Any]], second: float) -> int | None:
    """The id of the line `?t=second` opens: one that starts within that second (t=42 opens a line at 42.04),
    else the one being spoken then, else the next one; None past the last line."""
    following = None
    speaking = None
    for segment in segments:  # in time order
        if second <= segment["start"] < second + 1:
            return int(segment["id"])
        if segment["start"] <= second <= segment["end"]:
            speaking = int(segment["id"])
        elif segment["start"] > second and following is None:
            following = int(segment["id"])
    return speaking if speaking is not None else following


def _start_second(value: str | None) -> float:
    try:
        second = float(value) if value else 0.0
    except ValueError:
        return 0.0
    return second if 0 <= second < 10**7 else 0.0


def _turns(segments: list[dict], voices: dict[str, dict]) -> list[dict]:
    """Consecutive segments of one speaker, shown under one name (linked to the person's page when known).

    Each voice's line is rendered once (a 2,000-line meeting can have as many turns as lines)."""
    speaker_line = get_template_attribute("partials/speaker.html", "speaker_line")
    lines: dict[str | None, str] = {}
    turns: list[dict] = []
    for segment in segments:
        # Only lines with an unsure word are rendered word by word (a 2,000-line meeting renders in time).
        # A curator's word has no probability (None): a person wrote it, so it is not marked unsure.
        segment["unsure"] = any(
            w["probability"] is not None and w["probability"] < LOW_PROBABILITY for w in segment["words"]
        )
        label = segment["speaker"]["label"] if segment["speaker"] else None
        if turns and turns[-1]["label"] == label:
            turns[-1]["segments"].append(segment)
        else:
            if label not in lines:
                lines[label] = speaker_line(voices.get(label) if label else None, segment["speaker"])
            turns.append({"label": label, "line": lines[label], "colour": speaker_colour(label), "segments": [segment]})
    return turns
