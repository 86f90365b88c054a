"""The JSON API's OpenAPI 3.1 description, served at /api/openapi.json (the documents explained in docs/api.md).

The paths are written by hand, next to the routes they describe; a test checks that every /api route is here and
every path here is a route. The public documents' schemas are made from the TypedDicts their builders return
(a meeting, a search page, an excerpt), so the description cannot drift from what the API sends.
"""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin, get_type_hints, is_typeddict

from archive import __version__
from archive.config import ENGINES, WHISPER_LANGUAGES
from archive.db.models import SEGMENT_KINDS
from archive.legislators.directory import LIMITS, TOWN_LIMIT
from archive.publish.documents import MeetingDocument
from archive.search import PER_PAGE_MAX, SORTS, HitSpeaker, SearchPageJSON
from archive.web.excerpt_input import CitedExcerpt
from archive.web.upload_input import LAYOUTS, MAX_TRACKS, JobJSON

WEB_ADDRESS = "^$|^[Hh][Tt][Tt][Pp][Ss]?://[^\\s\"'<>]+$"  # empty, or upload_input.WEB_ADDRESS

# Where a generated schema needs more than its fields say.
DESCRIPTIONS = {
    ("SearchPageJSON", "total_exact"): "False when more segments matched than were counted (the PostgreSQL backend"
    " counts the newest 2,000): total is then a lower bound, and the results and facets come from those newest"
    " matches.",
    ("SearchResult", "highlight"): "Escaped text, matches in <mark>.",
    ("HitSpeaker", "id"): "The person (null: not identified).",
    ("HitSpeaker", "name"): "Public name (anonymous: the role).",
    ("HitSpeaker", "label"): "The voice in its meeting, SPEAKER_nn.",
    ("MeetingDocument", "notices"): "What was withheld at a speaker's request, and when.",
}
_SIMPLE = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


def schema_of(kind: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a type hint; a TypedDict becomes a named component in `schemas` (and a $ref here)."""
    if kind in _SIMPLE:
        return {"type": _SIMPLE[kind]}
    if kind is Any:
        return {}
    origin, args = get_origin(kind), get_args(kind)
    if origin in (Union, types.UnionType):
        members = [schema_of(arg, schemas) for arg in args]
        if all(set(member) == {"type"} for member in members):
            return {"type": [member["type"] for member in members]}
        return {"anyOf": members}
    if origin is list:
        return {"type": "array", "items": schema_of(args[0], schemas)}
    if origin is dict:
        return {"type": "object", "additionalProperties": schema_of(args[1], schemas)}
    if is_typeddict(kind):
        name = kind.__name__
        if name not in schemas:
            schemas[name] = {}  # claimed first: a document may refer to itself
            properties = {}
            for field, hint in get_type_hints(kind).items():
                properties[field] = schema_of(hint, schemas)
                if (name, field) in DESCRIPTIONS:
                    properties[field] = {**properties[field], "description": DESCRIPTIONS[(name, field)]}
            schemas[name] = {
                "type": "object",
                "description": " ".join((kind.__doc__ or name).split()),
                "required": sorted(kind.__required_keys__),
                "properties": properties,
            }
        return {"$ref": f"#/components/schemas/{name}"}
    raise TypeError(f"no JSON Schema for {kind!r}")


def document_schemas() -> dict[str, Any]:
    """The public documents' schemas, under the names the paths refer to, with what they refer to."""
    schemas: dict[str, Any] = {}
    for name, kind in (
        ("SearchPage", SearchPageJSON),
        ("Meeting", MeetingDocument),
        ("Excerpt", CitedExcerpt),
        ("Speaker", HitSpeaker),
        ("Job", JobJSON),
    ):
        schemas[name] = schema_of(kind, schemas)
    return schemas


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _path(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string"},
    }


# Text parameters: something besides spaces (an empty parameter is refused), no control characters.
TEXT: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "pattern": "^[^\\u0000-\\u001f]*[^\\s\\u0000-\\u001f\\u0085][^\\u0000-\\u001f]*$",
}

PAGING = [
    _query("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1}),
    _query("per_page", "Items per page.", {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX}),
]


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


ERROR = {
    "description": "Bad input: the reason, naming the parameter (an empty parameter, a value out of its range or"
    " not among those listed).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
NOT_FOUND = {
    "description": "No such item.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


TOO_LONG = {
    "description": "The address is too long (more than 8,190 bytes after the question mark): nothing was searched.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


_CODE = "(" + "|".join(WHISPER_LANGUAGES) + ")"
# POST /api/meetings: the upload form's fields. Rules that tie two fields together are in the descriptions (an
# English-only model with English alone; tracks with 2 or more files), the fields' schemas say what each takes alone.
NEW_MEETING: dict[str, Any] = {
    "type": "object",
    "required": ["recording", "body", "title", "date"],
    "additionalProperties": False,  # a field this upload does not know is refused by name (a mistyped "languages")
    "properties": {
        "recording": {
            "type": "string",
            "format": "binary",
            "minLength": 1,
            "description": "The recording (audio or video): one file, or several with layout=tracks.",
        },
        "body": {**TEXT, "maxLength": 300, "description": "The public body that met."},
        "title": {**TEXT, "maxLength": 500},
        "date": {
            "type": "string",
            "format": "date",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            "description": "YYYY-MM-DD.",
        },
        "languages": {
            "type": "string",
            "maxLength": 100,
            "pattern": f"^$|^{_CODE}(,{_CODE})*$",
            "description": "The languages spoken, comma-separated ISO 639-1 codes (en,es); any but English alone:"
            " the multilingual model by default. Empty: TESTIMONY_LANGUAGES.",
        },
        "engine": {"type": "string", "enum": ["", *ENGINES], "description": "Empty: TESTIMONY_ENGINE."},
        "model": {
            "type": "string",
            "maxLength": 200,
            "pattern": "^[A-Za-z0-9._-]*$",
            "description": "A model name such as base (empty: the languages' default); an English-only one"
            " (tiny.en, base.en) only with English alone.",
        },
        "layout": {
            "type": "string",
            # "tracks" takes 2 or more files: a rule over two fields, said in words, as the upload form's.
            "enum": ["", *(layout for layout in LAYOUTS if layout != "tracks")],
            "description": "one recording (empty: the same) or channels (a track per channel); also tracks, with 2"
            f" to {MAX_TRACKS} files under `recording` (simultaneous tracks, one per participant).",
        },
        "source_url": {"type": "string", "maxLength": 2000, "pattern": WEB_ADDRESS, "description": "http(s)://…"},
        "agenda_url": {"type": "string", "maxLength": 2000, "pattern": WEB_ADDRESS, "description": "http(s)://…"},
    },
}


def document() -> dict[str, Any]:
    described = _document()
    # Every operation that takes parameters may meet an address over the limit (archive.web.limits).
    for path in described["paths"].values():
        for operation in path.values():
            if "400" in operation.get("responses", {}):
                operation["responses"]["414"] = TOO_LONG
    return described


def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Testimony Archive API",
            "version": __version__,
            "description": "Public-meeting testimony: search, meetings with word-timed transcripts, speakers, "
            'excerpts and legislators. Errors are {"error": "…"} with a 4xx status.',
        },
        "paths": {
            "/api/search": {
                "get": {
                    "summary": "Search every segment of testimony",
                    "parameters": [
                        {
                            **_query(
                                "q",
                                'Required. Words, "quoted phrases", OR, -exclusion, prefix*, speaker:, kind:, meeting:,'
                                " lang:, date:.",
                                {**TEXT, "maxLength": 1000},
                            ),
                            "required": True,
                        },
                        _query("speaker", "Only this speaker (exact public name).", TEXT),
                        _query("kind", "Only this kind of segment.", {"type": "string", "enum": list(SEGMENT_KINDS)}),
                        _query("meeting", "Only this meeting (slug).", TEXT),
                        _query("body", "Only this body's meetings (the body's slug).", TEXT),
                        _query(
                            "lang",
                            "Only segments in this language (ISO 639-1: en, es).",
                            {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                        ),
                        _query("from", "Meetings on or after this date.", {"type": "string", "format": "date"}),
                        _query("to", "Meetings on or before this date.", {"type": "string", "format": "date"}),
                        _query("sort", "Order of results.", {"type": "string", "enum": list(SORTS)}),
                        *PAGING,
                    ],
                    "responses": {"200": _ok("A page of results with facets.", "SearchPage"), "400": ERROR},
                }
            },
            "/api/meetings": {
                "get": {
                    "summary": "Meetings, newest first",
                    "parameters": [_query("body", "Only this body (its slug).", TEXT), *PAGING],
                    "responses": {"200": _ok("A page of meetings.", "MeetingList"), "400": ERROR},
                },
                "post": {
                    "summary": "Upload a recording as a new meeting: stored and queued for transcription",
                    "description": "The upload form's fields and rules (/admin/upload): a signed-in curator's session"
                    " cookie and its CSRF token in X-CSRFToken (any signed-in page's form carries it), at most"
                    " TESTIMONY_UPLOAD_LIMIT_MB. The job stores the recording and transcribes it in the languages"
                    " given; poll its url for progress.",
                    "security": [{"curatorSession": [], "csrfToken": []}],
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "16–64 letters, digits, - or _: a repeat answers the first job (200).",
                            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/NewMeeting"}}},
                    },
                    "responses": {
                        "202": _ok("Queued; Location names the job's progress.", "Job"),
                        "200": _ok("Already queued with this Idempotency-Key.", "Job"),
                        "400": {
                            "description": "Bad input, naming the field (nothing stored), or no CSRF token.",
                            "content": ERROR["content"],
                        },
                        "401": {"description": "Not signed in.", "content": ERROR["content"]},
                        "403": {
                            "description": "The account is not a curator's or an admin's.",
                            "content": ERROR["content"],
                        },
                        "413": {
                            "description": "Larger than the upload limit: nothing stored.",
                            "content": ERROR["content"],
                        },
                        "507": {
                            "description": "The server's disk is full: nothing stored.",
                            "content": ERROR["content"],
                        },
                    },
                },
            },
            "/api/meetings/{slug}": {
                "get": {
                    "summary": "One meeting with its speakers and word-timed segments",
                    "parameters": [_path("slug", "The meeting's slug.")],
                    "responses": {"200": _ok("The meeting.", "Meeting"), "404": NOT_FOUND},
                }
            },
            "/api/speakers/{person_id}": {
                "get": {
                    "summary": "A person: meetings they spoke in and their statements",
                    "parameters": [_path("person_id", "The person's id.", {"type": "integer"}), *PAGING],
                    "responses": {"200": _ok("The person's record.", "Object"), "400": ERROR, "404": NOT_FOUND},
                }
            },
            "/api/excerpts": {
                "get": {
                    "summary": "Excerpts, newest first",
                    "parameters": [_query("meeting", "Only this meeting's excerpts (slug).", TEXT), *PAGING],
                    "responses": {
                        "200": _ok("A page of excerpts.", "Object"),
                        "400": ERROR,
                        "404": {"description": "No meeting with that slug.", "content": ERROR["content"]},
                    },
                },
                "post": {
                    "summary": "Make an excerpt (boundaries snap to words)",
                    "security": [{"editorToken": []}],
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "16–64 letters, digits, - or _: a repeat returns the first excerpt (200).",
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewExcerpt"}}},
                    },
                    "responses": {
                        "201": _ok("Made; Location names its page.", "Excerpt"),
                        "200": _ok("Already made with this Idempotency-Key.", "Excerpt"),
                        "400": ERROR,
                        "401": {"description": "No token.", "content": ERROR["content"]},
                        "403": {
                            "description": "Wrong token, or excerpts are switched off.",
                            "content": ERROR["content"],
                        },
                    },
                },
            },
            "/api/excerpts/{slug}": {
                "get": {
                    "summary": "One excerpt: quote by voice, verification, citations",
                    "parameters": [_path("slug", "The excerpt's slug.")],
                    "responses": {"200": _ok("The excerpt.", "Excerpt"), "404": NOT_FOUND},
                }
            },
            "/api/legislators": {
                "get": {
                    "summary": "Find legislators by town or district",
                    "parameters": [
                        _query(
                            "town",
                            "A town (every candidate district when the town is split).",
                            {**TEXT, "maxLength": TOWN_LIMIT},
                        ),
                        {
                            **_query(
                                "district",
                                "A district name; may repeat (one per chamber).",
                                {**TEXT, "maxLength": LIMITS["district"]},
                            ),
                            "explode": True,
                        },
                        _query("chamber", "house or senate.", {"type": "string", "enum": ["house", "senate"]}),
                    ],
                    "responses": {"200": _ok("Matching legislators.", "Object"), "400": ERROR},
                }
            },
            "/api/campaigns": {
                "get": {
                    "summary": "Open campaigns, the most recently opened first",
                    "responses": {"200": _ok('{"campaigns": [Campaign, …]}', "Object")},
                }
            },
            "/api/campaigns/{slug}": {
                "get": {
                    "summary": "One campaign (open or closed; drafts are not public): its excerpts and letters sent",
                    "parameters": [_path("slug", "The campaign's slug.")],
                    "responses": {"200": _ok("The campaign.", "Campaign"), "404": NOT_FOUND},
                }
            },
            "/api/openapi.json": {
                "get": {"summary": "This document", "responses": {"200": _ok("OpenAPI 3.1.", "Object")}}
            },
        },
        "components": {
            "securitySchemes": {
                "editorToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "TESTIMONY_EDITOR_TOKEN, until curator accounts exist.",
                },
                "curatorSession": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "A curator's (or an admin's) session, from signing in at /login.",
                },
                "csrfToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRFToken",
                    "description": "The session's CSRF token: the csrf_token field of any form on a signed-in page.",
                },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
                "Object": {"type": "object"},
                **document_schemas(),
                "MeetingList": {
                    "type": "object",
                    "properties": {
                        "total": {"type": "integer"},
                        "page": {"type": "integer"},
                        "per_page": {"type": "integer"},
                        "meetings": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "NewExcerpt": {
                    "type": "object",
                    "required": ["meeting", "start", "end", "title"],
                    "properties": {
                        "meeting": {"type": "string", "description": "The meeting's slug."},
                        "start": {"type": ["number", "string"], "description": "Seconds or h:mm:ss."},
                        "end": {"type": ["number", "string"], "description": "Seconds or h:mm:ss."},
                        "title": {"type": "string", "maxLength": 200},
                        "note": {"type": ["string", "null"], "maxLength": 5000},
                    },
                },
                "NewMeeting": NEW_MEETING,
                "Campaign": {
                    "type": "object",
                    "properties": {
                        "slug": {"type": "string"},
                        "title": {"type": "string"},
                        "why": {"type": "string"},
                        "target": {"type": "string", "enum": ["house", "senate", "both", "list"]},
                        "deadline": {"type": ["string", "null"], "format": "date"},
                        "open": {"type": "boolean", "description": "Taking letters now."},
                        "supporters": {"type": "integer", "description": "Supporters who confirmed a letter."},
                        "letters_confirmed": {"type": "integer", "description": "Letters confirmed."},
                        "emails_to_legislators": {
                            "type": "integer",
                            "description": "The emails confirmed letters became, one per legislator.",
                        },
                        "letters_sent": {
                            "type": "integer",
                            "description": "Of those emails, the ones delivered to legislators.",
                        },
                        "url": {"type": "string"},
                        "excerpts": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
        },
    }
