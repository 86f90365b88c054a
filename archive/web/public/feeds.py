"""Sharing beyond the site: the embeddable player, oEmbed, Atom feeds, the sitemap and the downloads.

Links that leave the site (the sitemap, oEmbed, CSV) are absolute: TESTIMONY_PUBLIC_URL when it is set, else
the address the request came to. Atom feeds never take the request's Host: their links are the public address's,
or relative where none is set, and their ids stable URNs then (feed readers keep ids forever).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, send_file
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from archive import __version__
from archive.db.models import Campaign, Excerpt, Meeting, Person, Segment, Speaker
from archive.db.types import as_utc
from archive.errors import InvalidInput, NotFound
from archive.excerpts.manage import ExcerptDocument, excerpt_document, find_excerpt, is_withheld
from archive.privacy.view import NAMED, neutral_label, redact_phrases, withheld_phrases
from archive.publish import atom
from archive.publish.bulk import DUMPS, offered_zip
from archive.publish.documents import excerpt_documents, excerpt_query
from archive.publish.formats import render_excerpts
from archive.timecodes import format_clock
from archive.web.context import absolute_url, db, frameable, run_search, search_request_from, site_url
from archive.web.templating import FEED_PARAMETERS, search_feed_url

feeds = Blueprint("feeds", __name__)

FEED_SIZE = 50
EMBED_SIZE = (560, 300)  # the iframe oEmbed proposes, shrunk to the consumer's maxwidth/maxheight
CARD_SIZE = (1200, 630)
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_EXCERPT_PATH = re.compile(r"/excerpts/([a-z0-9]{1,16})(?:/embed)?/?")


def speakers_text(document: ExcerptDocument) -> str | None:
    """Who speaks in an excerpt, as a byline: "Dan Doe, chair; Speaker 2"."""
    names = []
    for speaker in document["speakers"]:
        name = speaker["name"] or neutral_label(speaker["label"])
        role = speaker["role"]
        names.append(f"{name}, {role}" if role and role != name else name)
    return "; ".join(names) or None


# --- the embeddable player and oEmbed --------------------------------------------------------------------


@feeds.get("/excerpts/<slug>/embed")
@frameable
def embed(slug: str) -> ResponseReturnValue:
    document = excerpt_document(db(), find_excerpt(db(), slug))
    return render_template(
        "public/embed.html",
        excerpt=document,
        speakers=speakers_text(document),
        date=dt.date.fromisoformat(document["meeting"]["date"]),
        page_url=absolute_url(f"/excerpts/{slug}"),
        site_name=current_app.config["TESTIMONY"].site_name,
    )


@feeds.get("/oembed")
def oembed() -> ResponseReturnValue:
    """oEmbed 1.0 (https://oembed.com) for excerpt pages: a "rich" answer whose html is the embed iframe."""
    if request.args.get("format", "json") != "json":
        return jsonify(error="only format=json is offered"), 501
    url = (request.args.get("url") or "").strip()
    if not url:
        return jsonify(error="url: give the address of an excerpt page"), 400
    try:
        max_width, max_height = _dimension("maxwidth"), _dimension("maxheight")
    except InvalidInput as error:
        return jsonify(error=str(error)), 400
    slug = _excerpt_slug(url)
    try:
        if slug is None:
            raise NotFound(f"{url} is not an excerpt of this site")
        document = excerpt_document(db(), find_excerpt(db(), slug))
    except NotFound as error:
        return jsonify(error=str(error)), 404
    settings = current_app.config["TESTIMONY"]
    width = min(EMBED_SIZE[0], max_width or EMBED_SIZE[0])
    height = min(EMBED_SIZE[1], max_height or EMBED_SIZE[1])
    scale = min(1.0, (max_width or CARD_SIZE[0]) / CARD_SIZE[0], (max_height or CARD_SIZE[1]) / CARD_SIZE[1])
    answer: dict[str, Any] = {
        "type": "rich",
        "version": "1.0",
        "title": document["title"],
        "provider_name": settings.site_name,
        "provider_url": absolute_url("/"),
        "cache_age": 3600,
        "html": render_template(
            "partials/oembed_iframe.html",
            src=absolute_url(f"/excerpts/{slug}/embed"),
            width=width,
            height=height,
            title=document["title"],
        ).strip(),
        "width": width,
        "height": height,
        "thumbnail_url": absolute_url(f"/excerpts/{slug}/card.png"),
        "thumbnail_width": int(CARD_SIZE[0] * scale),
        "thumbnail_height": int(CARD_SIZE[1] * scale),
    }
    author = speakers_text(document)
    if author:
        answer["author_name"] = author
    people = {s["person_id"] for s in document["speakers"]}
    if len(people) == 1 and None not in people:
        answer["author_url"] = absolute_url(f"/speakers/{people.pop()}")
    return jsonify(answer)


def _dimension(name: str) -> int | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) <= 10_000:
        raise InvalidInput(f"{name} must be a whole number of pixels between 1 and 10000")
    return int(value)


def _excerpt_slug(url: str) -> str | None:
    """The excerpt slug of a URL of this site (its public address or the one asked), else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https"):
        return None
    for base in {current_app.config["TESTIMONY"].public_url, request.host_url}:
        if not base:
            continue
        site = urlsplit(base)
        prefix = site.path.rstrip("/")
        if parts.netloc.lower() == site.netloc.lower() and parts.path.startswith(prefix + "/"):
            match = _EXCERPT_PATH.fullmatch(parts.path[len(prefix) :])
            if match:
                return match.group(1)
    return None


# --- Atom feeds --------------------------------------------------------------------------------------------


@feeds.get("/meetings.atom")
def meetings_feed() -> ResponseReturnValue:
    rows = db().scalars(
        select(Meeting)
        .options(selectinload(Meeting.body), selectinload(Meeting.recordings))
        .order_by(Meeting.created_at.desc(), Meeting.id.desc())
        .limit(FEED_SIZE)
    )
    entries = []
    phrases = withheld_phrases(db())
    for meeting in rows:
        place = f", {meeting.place}" if meeting.place else ""
        url = _feed_link(f"/meetings/{meeting.slug}")
        entries.append(
            atom.Entry(
                id=_feed_id(f"/meetings/{meeting.slug}"),
                title=redact_phrases(meeting.title, phrases.get(meeting.id, [])),
                url=url,
                updated=as_utc(meeting.created_at),
                summary=f"{meeting.body.name}{place}, {meeting.date:%-d %B %Y}; "
                f"{format_clock(meeting.duration)} recorded.",
            )
        )
    return _atom("/meetings.atom", "/meetings", "New meetings", entries)


@feeds.get("/excerpts.atom")
def excerpts_feed() -> ResponseReturnValue:
    entries = []
    for excerpt in db().scalars(excerpt_query().limit(FEED_SIZE)):
        if is_withheld(db(), excerpt):  # over an unpublished voice's speech (archive.privacy)
            continue
        document = excerpt_document(db(), excerpt)
        meeting = document["meeting"]
        byline = speakers_text(document) or "Unnamed speaker"
        status = "Verified against the recording." if document["verified"] else "Machine transcript, not yet verified."
        url = _feed_link(document["url"])
        entries.append(
            atom.Entry(
                id=_feed_id(document["url"]),
                title=document["title"],
                url=url,
                updated=max(as_utc(t) for t in (excerpt.created_at, excerpt.verified_at) if t is not None),
                summary=f"“{document['quote']}” — {byline}. {meeting['title']}, {meeting['body']}, "
                f"{meeting['date']}, at {format_clock(document['start'])}. {status}",
                author=byline,
                enclosure=(f"{url}/clip.mp3", "audio/mpeg"),
            )
        )
    return _atom("/excerpts.atom", "/", "New excerpts", entries)


@feeds.get("/search.atom")
def search_feed() -> ResponseReturnValue:
    """A saved search to follow: the newest hits by meeting date, with the parameters and errors of /api/search."""
    args = {name: request.args[name] for name in FEED_PARAMETERS if name in request.args}
    try:
        search_request = search_request_from(args)
    except InvalidInput as error:
        return jsonify(error=str(error)), 400
    search_request = dataclasses.replace(search_request, sort="date", page=1, per_page=FEED_SIZE)
    page = run_search(search_request)
    entries = []
    for hit in page.hits:
        who = hit.speaker_name or (neutral_label(hit.speaker_label) if hit.speaker_label else "Unnamed speaker")
        url = _feed_link(f"{hit.url}#s{hit.segment_id}")
        entries.append(
            atom.Entry(
                id=_feed_id(f"{hit.url}#s{hit.segment_id}"),
                title=f"{who}: “{_shorten(hit.text, 100)}”",
                url=url,
                updated=dt.datetime.combine(hit.meeting_date, dt.time(), dt.UTC),
                summary=f"{hit.text} — {who}, {hit.meeting_title}, {hit.body}, {hit.meeting_date}, "
                f"at {format_clock(hit.start)}.",
                author=who,
            )
        )
    described = " ".join(value if name == "q" else f"{name}:{value}" for name, value in args.items() if value.strip())
    return _atom(search_feed_url(args), "/search?" + urlencode(args), f"Search: {described}", entries)


def _atom(self_path: str, page_path: str, title: str, entries: list[atom.Entry]) -> Response:
    site_name = current_app.config["TESTIMONY"].site_name
    feed = atom.Feed(
        id=_feed_id(self_path),
        title=f"{title} · {site_name}",
        self_url=_feed_link(self_path),
        page_url=_feed_link(page_path),
        author=site_name,
        author_url=_feed_link("/"),
        generator="Testimony Archive",
        version=__version__,
    )
    return Response(atom.render(feed, entries), mimetype="application/atom+xml")


def _feed_link(path: str) -> str:
    """A feed's link: on the configured public address, else relative (resolved against the feed's own URL)."""
    return current_app.config["TESTIMONY"].public_url.rstrip("/") + path


def _feed_id(path: str) -> str:
    """An Atom id (an absolute IRI, RFC 4287): the public address's URL, else a URN made from the site and path."""
    settings = current_app.config["TESTIMONY"]
    if settings.public_url:
        return settings.public_url.rstrip("/") + path
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'testimony-archive:{settings.site_name}:{path}')}"


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


# --- the sitemap -------------------------------------------------------------------------------------------


@feeds.get("/sitemap.xml")
def sitemap() -> ResponseReturnValue:
    """Every public page: home, meetings, each meeting, excerpt, campaign and named speaker (sitemaps.org)."""
    urlset = ET.Element(f"{{{SITEMAP_NS}}}urlset")

    def add(path: str, lastmod: dt.datetime | None = None) -> None:
        url = ET.SubElement(urlset, f"{{{SITEMAP_NS}}}url")
        ET.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = absolute_url(path)
        if lastmod is not None:
            ET.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = as_utc(lastmod).isoformat(timespec="seconds")

    changed = (
        db()
        .execute(
            select(Meeting.slug, Meeting.created_at, func.max(Segment.created_at))
            .outerjoin(Segment, Segment.meeting_id == Meeting.id)
            .group_by(Meeting.id, Meeting.slug, Meeting.created_at)
            .order_by(Meeting.date.desc(), Meeting.id.desc())
        )
        .all()
    )
    newest = max((as_utc(t) for _slug, made, last in changed for t in (made, last) if t is not None), default=None)
    add("/", newest)
    add("/meetings", newest)
    for slug, made, last in changed:
        add(f"/meetings/{slug}", max(as_utc(t) for t in (made, last) if t is not None))
    for excerpt in db().scalars(select(Excerpt).order_by(Excerpt.created_at.desc())):
        if is_withheld(db(), excerpt):  # over an unpublished voice's speech (archive.privacy)
            continue
        slug, made, verified = excerpt.slug, excerpt.created_at, excerpt.verified_at
        add(f"/excerpts/{slug}", max(as_utc(t) for t in (made, verified) if t is not None))
    campaigns = (
        db()
        .execute(
            select(Campaign.slug, Campaign.opened_at, Campaign.closed_at)
            .where(Campaign.status != "draft")  # drafts are for their organizers only
            .order_by(Campaign.id)
        )
        .all()
    )
    if campaigns:
        add("/campaigns")
    for slug, opened, closed in campaigns:
        add(f"/campaigns/{slug}", max((as_utc(t) for t in (opened, closed) if t is not None), default=None))
    # People who speak in a meeting; those who asked to stay anonymous are left out of the index entirely.
    for (person_id,) in db().execute(
        select(Person.id)
        .where(
            Person.id.in_(select(Speaker.person_id).where(Speaker.consent.in_(NAMED))), Person.consent != "anonymous"
        )
        .order_by(Person.id)
    ):
        add(f"/speakers/{person_id}")
    ET.register_namespace("", SITEMAP_NS)
    body = ET.tostring(urlset, encoding="utf-8", xml_declaration=True)
    return Response(body, mimetype="application/xml")


# --- excerpts as CSV, and the bulk download ---------------------------------------------------------------


@feeds.get("/excerpts.csv")
def excerpts_csv() -> ResponseReturnValue:
    meeting = (request.args.get("meeting") or "").strip() or None
    body = render_excerpts(excerpt_documents(db(), meeting_slug=meeting, base_url=site_url()), "csv")
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="excerpts.csv"'
    return response


@feeds.get("/downloads")
def downloads() -> ResponseReturnValue:
    published = offered_zip(db(), current_app.config["TESTIMONY"].home / DUMPS)
    return render_template("public/downloads.html", dump=published)


@feeds.get("/downloads/archive.zip")
def archive_zip() -> ResponseReturnValue:
    published = offered_zip(db(), current_app.config["TESTIMONY"].home / DUMPS)
    if published is None:
        abort(404, description="No bulk download has been published yet: see /downloads.")
    return send_file(
        published.path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=published.path.name,
        conditional=True,
        max_age=3600,
    )
