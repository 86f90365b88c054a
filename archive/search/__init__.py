"""Search over segments: one interface, two backends (Whoosh on disk, PostgreSQL full-text search)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypedDict
from urllib.parse import quote

from archive.locales import Text


def line_id(segment_id: int) -> str:
    """The element id of a segment's line on its meeting page: what every link to a line ends with (#s123)."""
    return f"s{segment_id}"


MAX_QUERY_CHARACTERS = 500  # longer input is cut here (and the page says so); nobody types more
PER_PAGE_MAX = 100

# What a search page says about its query (both backends), in the visitor's language (archive.locales).
TRY_AGAIN = Text('Type a word or a "quoted phrase" to search.')
CUT = Text("Only the first %(count)s characters of the query were used.", count=MAX_QUERY_CHARACTERS)
UNREADABLE = Text(
    "Part of the query could not be read as written (an unclosed quote or bracket, or AND/OR/NOT with nothing"
    " beside it) and was read as plain words or left out."
)
FIELD_LIST = "speaker, kind, meeting, tag, date, lang"  # the field names, as typed in a query (never translated)


def unknown_field(names: str) -> Text:
    return Text("Unknown field %(names)s: searched as words (fields: %(fields)s).", names=names, fields=FIELD_LIST)


def bad_date(value: str) -> Text:
    return Text(
        "date:%(value)s was left out: dates are written date:2024, date:2024-02 or date:[2023-01 to 2024-06-30].",
        value=value,
    )


SORTS = ("relevance", "date")


class MeetingRef(TypedDict):
    """A meeting as a search hit (and an excerpt) names it."""

    slug: str
    title: str
    date: str  # ISO 8601
    body: str


class HitSpeaker(TypedDict):
    """Always the four keys: id, name and role are the person's (null for a voice nobody has identified),
    label is the voice's in its meeting (null for a segment without one)."""

    id: int | None
    name: str | None
    role: str | None
    label: str | None


class LinkedLineJSON(TypedDict):
    """A line tied to a hit by a curator's confirmed interpretation link, as published."""

    segment_id: int
    language: str | None  # ISO 639-1
    start: float
    end: float
    text: str  # as published: withheld words are "[redacted]"
    url: str


class SearchResult(TypedDict):
    segment_id: int
    meeting: MeetingRef
    speaker: HitSpeaker
    kind: str | None
    language: str | None  # ISO 639-1: the language the words were said in
    start: float
    end: float
    text: str
    highlight: str  # HTML: the text escaped, matches in <mark>
    url: str
    # A hit on an interpreter's line: the original words it interprets; a hit on testimony: the interpreter's
    # rendering of it. Both [] for most hits (only a curator's confirmed links count).
    originals: list[LinkedLineJSON]
    interpretations: list[LinkedLineJSON]


class FacetJSON(TypedDict):
    value: str
    count: int


class SearchPageJSON(TypedDict):
    """GET /api/search and `testimony search --json` (PRODUCT.md §4)."""

    query: str
    total: int
    total_exact: bool
    page: int
    per_page: int
    message: str | None
    suggestion: str | None  # "Did you mean …": the query with unknown words corrected, when nothing matched
    results: list[SearchResult]
    facets: dict[str, list[FacetJSON]]


@dataclass(frozen=True)
class SearchRequest:
    """What a person asked for: the query string and filters that come from form fields or options."""

    q: str
    speaker: str | None = None
    kind: str | None = None
    meeting: str | None = None
    body: str | None = None  # the body's slug
    language: str | None = None  # ISO 639-1
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class LinkedLine:
    """A line tied to a hit by a confirmed interpretation link (archive.search.linked), as published."""

    segment_id: int
    language: str | None
    start: float
    end: float
    text: str
    url: str  # the line on its meeting page, as a hit's url

    def to_json(self) -> LinkedLineJSON:
        return {
            "segment_id": self.segment_id,
            "language": self.language,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "url": self.url,
        }


@dataclass(frozen=True)
class SearchHit:
    segment_id: int
    meeting_slug: str
    meeting_title: str
    meeting_date: dt.date
    body: str
    # The person the voice is attributed to: their id, public name (an anonymous person's role) and role;
    # None for a voice nobody has identified yet, whose diarization label is still given.
    speaker_id: int | None
    speaker_name: str | None
    speaker_role: str | None
    kind: str | None
    start: float
    end: float
    text: str
    highlight: str  # HTML: the text escaped, matches in <mark>
    speaker_label: str | None = None  # the voice in its meeting (SPEAKER_00…); None without diarization
    language: str | None = None  # ISO 639-1
    # Filled in after the backend answers (archive.search.linked): the original words an interpreter's line
    # interprets, and the interpreter's lines for a line of testimony.
    originals: tuple[LinkedLine, ...] = ()
    interpretations: tuple[LinkedLine, ...] = ()

    # The site's addresses for the hit, written out rather than built with url_for (a search page has sixty).
    @property
    def meeting_url(self) -> str:
        return f"/meetings/{quote(self.meeting_slug)}"

    @property
    def url(self) -> str:
        """The line itself: the page opens at its second and the fragment is the line's element id (`s<id>`)."""
        return f"{self.meeting_url}?t={int(self.start)}#{line_id(self.segment_id)}"

    @property
    def speaker_url(self) -> str | None:
        return None if self.speaker_id is None else f"/speakers/{self.speaker_id}"


class FacetCount(NamedTuple):
    """A facet's value and how many matches have it. A tuple, not a frozen dataclass: a search makes one per
    speaker found (hundreds), and a frozen dataclass's __init__ costs twice as much (0.2–0.3 ms a search)."""

    value: str
    count: int  # type: ignore[assignment]  # the field shadows tuple.count(), which nothing here calls


@dataclass(frozen=True)
class SearchPage:
    query: str
    total: int
    page: int
    per_page: int
    hits: list[SearchHit]
    facets: Mapping[str, Sequence[FacetCount]] = field(default_factory=dict)  # lists, or the Whoosh backend's lazy ones
    message: str | None = None  # said to the person: what was ignored, what to try
    # False when more segments matched than the backend counts (PostgreSQL past its window): `total` is then the
    # window, a lower bound, and the hits and the facets come from the newest `total` matches.
    total_exact: bool = True
    # "Did you mean …": the query with its unknown words replaced by the closest words the index holds.
    suggestion: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def total_text(self) -> str:
        """The total as the site and the terminal say it: "1 result", "2,345 results", "more than 2,000 results"."""
        if not self.total_exact:
            return f"more than {self.total:,} results"
        return f"{self.total:,} result{'' if self.total == 1 else 's'}"

    def to_json(self) -> SearchPageJSON:
        """The API's search document (GET /api/search, `testimony search --json`; docs/api.md)."""
        return {
            "query": self.query,
            "total": self.total,
            "total_exact": self.total_exact,
            "page": self.page,
            "per_page": self.per_page,
            "message": self.message,
            "suggestion": self.suggestion,
            "results": [
                {
                    "segment_id": h.segment_id,
                    "meeting": {
                        "slug": h.meeting_slug,
                        "title": h.meeting_title,
                        "date": h.meeting_date.isoformat(),
                        "body": h.body,
                    },
                    # Always the four keys: id, name and role are the person's (null for a voice nobody has
                    # identified), label is the voice's in its meeting (null for a segment without one).
                    "speaker": {
                        "id": h.speaker_id,
                        "name": h.speaker_name,
                        "role": h.speaker_role,
                        "label": h.speaker_label,
                    },
                    "kind": h.kind,
                    "language": h.language,
                    "start": h.start,
                    "end": h.end,
                    "text": h.text,
                    "highlight": h.highlight,
                    "url": h.url,
                    "originals": [line.to_json() for line in h.originals],
                    "interpretations": [line.to_json() for line in h.interpretations],
                }
                for h in self.hits
            ],
            "facets": {
                name: [{"value": f.value, "count": f.count} for f in counts] for name, counts in self.facets.items()
            },
        }
