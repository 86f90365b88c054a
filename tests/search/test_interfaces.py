"""Search through its two doors — `testimony search` and GET /api/search — including hostile input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from archive.cli.main import main

HOSTILE = [
    '"unbalanced quote',
    'unbalanced quote"',
    '"',
    '""',
    "'",
    "::",
    "speaker:",
    ":police",
    "kind:",
    "a:b:c",
    "AND",
    "OR",
    "NOT",
    "AND OR NOT",
    "-",
    "+",
    "--",
    "*",
    "?",
    "**",
    "(",
    ")",
    "(((",
    "[",
    "]",
    "{",
    "}",
    "^",
    "\\",
    "/",
    "~",
    "police~~",
    "border^^2",
    "date:",
    "date:garbage",
    "date:[2024 to",
    "date:[x to y]",
    "tag:",
    "meeting:",
    "segment_id:1",
    "start:[0 to 99999]",
    "x" * 2000,
    "police " * 400,
    "😀",
    "🚔 police 🚔",
    "警察",
    "الشرطة",
    "полиция",
    "\x00",
    "\u200b",
    "%",
    "%%",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "text:(",
    "speaker:(rosa",
    'speaker:"deputy dan"',
    'title:"regular meeting"',
    'body:"vermont council"',
    '"border patrol" OR',
    "OR border",
    "NOT NOT",
    "border -",
    "a" * 300 + "*",
]


def cli(settings):  # type: ignore[no-untyped-def]
    env = {
        "TESTIMONY_HOME": str(settings.home),
        "TESTIMONY_DATABASE_URL": settings.database_url,
        "TESTIMONY_SEARCH_BACKEND": settings.search_backend,
    }
    return CliRunner(env=env)


def test_the_cli_prints_a_readable_table(archive) -> None:  # type: ignore[no-untyped-def]
    settings, _, _ = archive
    result = cli(settings).invoke(main, ["search", '"here illegally"'])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "1 result; page 1 of 1"
    assert lines[1].split() == ["1:02:01", "2024-02-07", "2024-02-07-public-comment", "Deputy", "Dan"]
    assert lines[2].strip() == "You're «here» «illegally» and you're worried about being safe?"


def test_the_cli_filters_and_json(archive) -> None:  # type: ignore[no-untyped-def]
    settings, _, _ = archive
    result = cli(settings).invoke(
        main, ["search", "border", "--speaker", "Deputy Dan", "--from", "2023-01-01", "--to", "2023-12-31", "--json"]
    )
    assert result.exit_code == 0, result.output
    page = json.loads(result.stdout)
    assert page["total"] == 1
    assert page["results"][0]["start"] == 61.0
    hit = page["results"][0]
    assert hit["url"] == f"/meetings/2023-05-10-regular-meeting?t=61#s{hit['segment_id']}"  # the line's element id
    assert hit["language"] == "en"
    assert set(page["facets"]) == {"speaker", "kind", "meeting", "year", "language"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["police", "--from", "yesterday"], "--from 'yesterday' is not a date in the form YYYY-MM-DD"),
        (["police", "--kind", "gossip"], "Invalid value for '--kind'"),
        (["police", "--limit", "0"], "Invalid value for '--limit'"),
    ],
)
def test_the_cli_refuses_bad_options_in_one_line(archive, arguments, message) -> None:  # type: ignore[no-untyped-def]
    settings, _, _ = archive
    result = cli(settings).invoke(main, ["search", *arguments])
    assert result.exit_code != 0
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_hostile_queries_never_break_the_cli(archive) -> None:  # type: ignore[no-untyped-def]
    settings, _, _ = archive
    runner = cli(settings)
    for query in HOSTILE:
        result = runner.invoke(main, ["search", "--json", "--", query])  # "--": queries may start with "-"
        assert result.exit_code == 0, (query, result.output)
        page = json.loads(result.stdout)
        assert isinstance(page["total"], int) and isinstance(page["results"], list), query
        assert all("<script>" not in hit["highlight"] for hit in page["results"]), query


def test_the_api_answers_the_contract(archive, app_for) -> None:  # type: ignore[no-untyped-def]
    settings, _, _ = archive
    client = app_for(settings).test_client()
    response = client.get("/api/search", query_string={"q": "here illegally"})
    assert response.status_code == 200
    page = response.get_json()
    assert (page["query"], page["total"], page["page"], page["per_page"]) == ("here illegally", 1, 1, 20)
    assert page["total_exact"] is True
    hit = page["results"][0]
    assert hit["meeting"] == {
        "slug": "2024-02-07-public-comment",
        "date": "2024-02-07",
        "title": "Public comment on the Fair and Impartial Policing Policy",
        "body": "Vermont Criminal Justice Council",
    }
    assert hit["speaker"]["name"] == "Deputy Dan" and hit["speaker"]["role"] == "member"
    assert (hit["kind"], hit["start"], hit["end"]) == ("remark", 3721.4, 3726.0)
    assert hit["highlight"].count("<mark>") == 2
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, "q: type a word"),
        ({"q": "   "}, "q: type a word"),
        ({"q": "x", "page": "two"}, "page must be a whole number"),
        ({"q": "x", "page": "0"}, "page must be between 1 and 10000"),
        ({"q": "x", "per_page": "1000"}, "per_page must be between 1 and 100"),
        ({"q": "x", "from": "2024-13-01"}, "from must be a date"),
        ({"q": "x", "kind": "gossip"}, "kind must be one of"),
        ({"q": "x", "sort": "random"}, "sort must be one of"),
    ],
)
def test_the_api_refuses_bad_parameters_with_json(archive, app_for, params, error) -> None:  # type: ignore[no-untyped-def]
    settings, _, _ = archive
    response = app_for(settings).test_client().get("/api/search", query_string=params)
    assert response.status_code == 400
    assert error in response.get_json()["error"]


def test_hostile_queries_never_break_the_api(archive, app_for) -> None:  # type: ignore[no-untyped-def]
    settings, _, _ = archive
    client = app_for(settings).test_client()
    for query in HOSTILE:
        response = client.get("/api/search", query_string={"q": query, "speaker": query})
        assert response.status_code in (200, 400), query
        assert response.is_json, query
        body = response.get_json()
        assert "error" in body or isinstance(body["results"], list), query


def test_unknown_api_routes_are_json_404s(archive, app_for) -> None:  # type: ignore[no-untyped-def]
    settings, _, _ = archive
    client = app_for(settings).test_client()
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and response.is_json
    response = client.get("/api/meetings/no-such-meeting")
    assert response.status_code == 404
    assert response.get_json() == {"error": "no meeting with slug 'no-such-meeting'"}


def test_the_api_speaker_is_the_person_or_the_voice(archive, app_for) -> None:  # type: ignore[no-untyped-def]
    settings, sessions, _ = archive
    from sqlalchemy import select

    from archive.db.models import Person

    with sessions() as session:
        dan = session.scalar(select(Person.id).where(Person.name == "Deputy Dan"))
    client = app_for(settings).test_client()
    named = client.get("/api/search", query_string={"q": "here illegally"}).get_json()["results"][0]["speaker"]
    assert named == {"id": dan, "name": "Deputy Dan", "role": "member", "label": named["label"]}
    assert named["label"].startswith("SPEAKER_")
    unnamed = client.get("/api/search", query_string={"q": "minutes"}).get_json()["results"][0]["speaker"]
    assert unnamed["id"] is None and unnamed["name"] is None and unnamed["role"] is None
    assert unnamed["label"].startswith("SPEAKER_")
    none = client.get("/api/search", query_string={"q": "adjourned"}).get_json()["results"][0]["speaker"]
    assert none == {"id": None, "name": None, "role": None, "label": None}


def test_an_anonymous_name_never_reaches_the_api(archive, app_for) -> None:  # type: ignore[no-untyped-def]
    settings, _, _ = archive
    client = app_for(settings).test_client()
    for params in ({"q": "apples"}, {"q": "county"}, {"speaker": "farmworker"}, {"q": "quintanilla"}):
        body = client.get("/api/search", query_string=params).get_data(as_text=True)
        assert "Quintanilla" not in body and "Maria" not in body, params
    hit = client.get("/api/search", query_string={"q": "apples"}).get_json()["results"][0]
    assert (hit["speaker"]["name"], hit["speaker"]["role"]) == ("farmworker", "farmworker")
    assert cli(settings).invoke(main, ["search", "apples"]).stdout.count("farmworker") == 1


def test_a_misspelt_word_gets_did_you_mean_from_the_index(archive, app_for) -> None:  # type: ignore[no-untyped-def]
    settings, _, _ = archive
    client = app_for(settings).test_client()
    answer = client.get("/api/search", query_string={"q": "illegaly"}).get_json()
    assert (answer["total"], answer["suggestion"]) == (0, "illegally")
    page = client.get("/search?q=illegaly").get_data(as_text=True)
    assert 'Did you mean <a href="/search?q=illegally&amp;page=1">illegally</a>?' in page
    assert client.get("/api/search", query_string={"q": "illegally"}).get_json()["suggestion"] is None
    # A word nobody said within two edits gets nothing: the suggestion only offers what the index holds.
    assert client.get("/api/search", query_string={"q": "xylophone"}).get_json()["suggestion"] is None


def test_hits_land_on_their_line_and_facets_name_meetings_by_title(archive, app_for) -> None:  # type: ignore[no-untyped-def]
    import re

    settings, _, _ = archive
    client = app_for(settings).test_client()
    page = client.get("/search?q=illegally").get_data(as_text=True)
    link = re.search(r'<a href="(/meetings/[^"?]+)\?t=(\d+)#(s\d+)">at ', page)
    assert link is not None
    meeting = client.get(f"{link.group(1)}?t={link.group(2)}").get_data(as_text=True)
    assert f'id="{link.group(3)}"' in meeting
    assert re.search(rf'<p class="segment landing" id="{link.group(3)}"', meeting)  # ?t= alone picks it too
    everything = client.get("/search?q=the").get_data(as_text=True)
    facets = everything.split('aria-label="Narrow the results"', 1)[1]
    assert "Public comment on the Fair and Impartial Policing Policy</a>" in facets
    assert ">2024-02-07-public-comment</a>" not in facets
    assert '<select name="body">' in everything and '<select name="sort">' in everything
    body = client.get("/api/search", query_string={"q": "the", "body": "vermont-criminal-justice-council"})
    assert body.get_json()["total"] == client.get("/api/search?q=the").get_json()["total"] > 0
    assert client.get("/api/search", query_string={"q": "the", "body": "no-such-body"}).get_json()["total"] == 0
