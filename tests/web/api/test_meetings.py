"""GET /api/meetings and the OpenAPI document that describes every /api route."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories.meetings import Line, add_meeting


@pytest.fixture(autouse=True)
def meetings(sessions) -> None:  # type: ignore[no-untyped-def]
    """Three meetings of two bodies over two years (the shared `client` serves them)."""
    add_meeting(sessions, "2024-02-07-council", [Line("Hello.", 0.0, 1.0)], date=dt.date(2024, 2, 7))
    add_meeting(sessions, "2023-05-01-council", [Line("Hi.", 0.0, 1.0)], date=dt.date(2023, 5, 1))
    add_meeting(
        sessions, "2024-03-01-<b>board</b>", [Line("Yes.", 0.0, 2.0)], date=dt.date(2024, 3, 1), body="School Board"
    )


def test_meetings_are_listed_newest_first_and_paginated(client) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/api/meetings").get_json()
    assert answer["total"] == 3 and answer["page"] == 1
    assert [m["slug"] for m in answer["meetings"]] == [
        "2024-03-01-<b>board</b>",
        "2024-02-07-council",
        "2023-05-01-council",
    ]
    first = answer["meetings"][1]
    assert first == {
        "slug": "2024-02-07-council",
        "title": "Regular meeting",
        "date": "2024-02-07",
        "body": "Vermont Criminal Justice Council",
        "body_slug": "vermont-criminal-justice-council",
        "duration": 1.0,
        "url": "/meetings/2024-02-07-council",
    }
    second_page = client.get("/api/meetings?per_page=2&page=2").get_json()
    assert [m["slug"] for m in second_page["meetings"]] == ["2023-05-01-council"]
    board = client.get("/api/meetings?body=school-board").get_json()
    assert board["total"] == 1 and board["meetings"][0]["body"] == "School Board"


@pytest.mark.parametrize("query", ["page=0", "per_page=x", "per_page=1000"])
def test_bad_paging_is_a_400_naming_the_parameter(client, query: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/meetings?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.get_json()["error"]


def test_the_openapi_document_describes_exactly_the_api_routes(client) -> None:  # type: ignore[no-untyped-def]
    import re

    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method)
        for rule in client.application.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == routes
    # Every reference points at a schema that exists.
    references = list(_references(spec))
    assert len(references) > 10
    for reference in references:
        assert reference.removeprefix("#/components/schemas/") in spec["components"]["schemas"], reference


def _references(node):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def test_the_documents_say_what_their_schemas_say(client, sessions) -> None:  # type: ignore[no-untyped-def]
    """The schemas are made from the documents' TypedDicts: a meeting, a search page and its hits carry exactly
    their properties, every required one present, and each value of the type the schema names."""
    add_meeting(sessions, "2024-04-01-hearing", [Line("Good evening.", 0.0, 1.5, speaker="Ruth Amsel", role="chair")])
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    meeting = client.get("/api/meetings/2024-04-01-hearing").get_json()
    found = client.get("/api/search?q=evening").get_json()
    assert found["total"] == 1
    for document, name in [
        (meeting, "MeetingDocument"),
        (meeting["meeting"], "MeetingInfo"),
        (meeting["segments"][0], "Line"),
        (meeting["speakers"][0], "MeetingVoice"),
        (found, "SearchPageJSON"),
        (found["results"][0], "SearchResult"),
        (found["results"][0]["speaker"], "HitSpeaker"),
    ]:
        schema = schemas[name]
        assert set(document) == set(schema["properties"]), name
        assert set(schema["required"]) <= set(document), name
        for key, value in document.items():
            allowed = schema["properties"][key].get("type")
            if allowed is not None:
                kinds = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "null": type(None)}
                kinds |= {"array": list, "object": dict}
                names = allowed if isinstance(allowed, list) else [allowed]
                assert isinstance(value, tuple(kinds[n] for n in names)), (name, key, value)
    assert schemas["Meeting"] == {"$ref": "#/components/schemas/MeetingDocument"}


def test_a_method_not_allowed_is_a_405_that_says_which_are(client) -> None:  # type: ignore[no-untyped-def]
    response = client.put("/api/search?q=safe")
    assert response.status_code == 405 and set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert response.get_json()["error"]
    page = client.post("/meetings")  # pages too
    assert page.status_code == 405 and "GET" in page.headers["Allow"]


@pytest.mark.parametrize(
    "query, named",
    [
        ("", "q: type a word"),
        ("q=", "q: type a word"),  # required: an empty q says what it is for
        ("q=safe&kind=", "kind: empty"),
        ("q=safe&kind=speech", "kind must be one of"),
        ("q=safe&sort=loudest", "sort must be one of"),
        ("q=safe&speaker=%01Dan", "speaker: must not contain control characters"),
        ("q=safe&page=", "page: empty"),
    ],
)
def test_the_search_api_refuses_what_its_description_does_not_allow(client, query: str, named: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/search?{query}")
    assert response.status_code == 400 and named in response.get_json()["error"]
    spec = client.get("/api/openapi.json").get_json()
    [q] = [p for p in spec["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "q"]
    assert q["required"] is True  # as documented


def test_an_unknown_meeting_in_the_excerpt_list_is_a_documented_404(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/excerpts?meeting=no-such-meeting")
    assert response.status_code == 404 and "no-such-meeting" in response.get_json()["error"]
    spec = client.get("/api/openapi.json").get_json()
    assert "404" in spec["paths"]["/api/excerpts"]["get"]["responses"]
