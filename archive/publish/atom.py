"""Atom 1.0 feeds (RFC 4287) written with ElementTree, which escapes every text and attribute.

Titles and summaries are text constructs: markup in a transcript or a title reaches a feed reader as text.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

NS = "http://www.w3.org/2005/Atom"
# Characters XML 1.0 cannot carry; a pasted title or a transcript could hold one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Entry:
    id: str  # an absolute IRI that never changes
    title: str
    url: str  # the page it is about (rel="alternate", text/html)
    updated: dt.datetime  # timezone-aware
    summary: str
    author: str | None = None
    enclosure: tuple[str, str] | None = None  # (href, media type): a clip to listen to


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    self_url: str  # the feed's own address (rel="self")
    page_url: str  # the HTML page it follows (rel="alternate")
    author: str  # Atom needs an author for the feed or every entry: the site
    author_url: str
    generator: str
    version: str


def render(feed: Feed, entries: list[Entry], *, now: dt.datetime | None = None) -> bytes:
    """The feed as UTF-8 XML; it was updated when its newest entry was (now, when it has none)."""
    ET.register_namespace("", NS)
    root = ET.Element(_tag("feed"))
    _text(root, "id", feed.id)
    _text(root, "title", feed.title)
    updated = max((e.updated for e in entries), default=now or dt.datetime.now(dt.UTC))
    _text(root, "updated", _timestamp(updated))
    _link(root, feed.self_url, "self", "application/atom+xml")
    _link(root, feed.page_url, "alternate", "text/html")
    author = ET.SubElement(root, _tag("author"))
    _text(author, "name", feed.author)
    _text(author, "uri", feed.author_url)
    generator = ET.SubElement(root, _tag("generator"), version=feed.version)
    generator.text = _clean(feed.generator)
    for entry in entries:
        item = ET.SubElement(root, _tag("entry"))
        _text(item, "id", entry.id)
        _text(item, "title", entry.title)
        _text(item, "updated", _timestamp(entry.updated))
        _text(item, "published", _timestamp(entry.updated))
        _link(item, entry.url, "alternate", "text/html")
        if entry.enclosure:
            _link(item, entry.enclosure[0], "enclosure", entry.enclosure[1])
        if entry.author:
            _text(ET.SubElement(item, _tag("author")), "name", entry.author)
        _text(item, "summary", entry.summary).set("type", "text")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _tag(name: str) -> str:
    return f"{{{NS}}}{name}"


def _text(parent: ET.Element, name: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, _tag(name))
    element.text = _clean(value)
    return element


def _link(parent: ET.Element, href: str, rel: str, media_type: str) -> None:
    ET.SubElement(parent, _tag("link"), rel=rel, type=media_type, href=href)


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _timestamp(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("Atom times need a time zone")
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
