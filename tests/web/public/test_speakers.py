"""Who said what on the site: the meeting page's speakers, a person's page and its JSON twin."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from archive.db.models import Meeting, Person, Speaker
from tests.factories.meetings import Line, add_meeting, update_person

XSS = "<img src=x onerror=alert(1)>"
ESCAPED_XSS = "&lt;img src=x onerror=alert(1)&gt;"
SECRET = "Maria Quintanilla"  # anonymous: shown as "farmworker" only
SUGGESTED = "Suggested Sam"  # a curator's suggestion only: never public
NEW, OLD = "2024-02-07-comment", "2023-05-10-regular"


def attribute(sessions, slug: str, name: str | None, **values: object) -> None:  # type: ignore[no-untyped-def]
    """Set the attribution columns of the voice attributed to `name` in a meeting (None: the unnamed voice)."""
    with sessions() as session, session.begin():
        query = select(Speaker).join(Meeting).where(Meeting.slug == slug)
        if name is None:
            query = query.where(Speaker.person_id.is_(None))
        else:
            query = query.join(Person, Person.id == Speaker.person_id).where(Person.name == name)
        speaker = session.scalars(query).one()
        for column, value in values.items():
            setattr(speaker, column, value)


@pytest.fixture
def people(settings, sessions, app_for):  # type: ignore[no-untyped-def]
    """Two meetings with people attributed in every way, and the site's test client; ids by name."""
    from archive.search.index import index_meeting, open_backend

    add_meeting(
        sessions,
        NEW,
        [
            Line("We now open public comment.", 10.0, 16.0, "Chair Anne", "chair", "procedural"),
            Line("I want to feel safe driving to the grocery store.", 20.0, 26.5, XSS, "public commenter", "testimony"),
            Line("I pick apples in Franklin County.", 30.0, 34.0, SECRET, "farmworker", "testimony"),
            Line("Second on the motion.", 40.0, 41.0, "voice", label_only=True),
            Line("You're here illegally and you're worried?", 3721.4, 3726.0, "Deputy Dan", "member", "remark"),
        ],
        title="Public comment",
        date=dt.date(2024, 2, 7),
    )
    add_meeting(
        sessions,
        OLD,
        [
            Line("Border Patrol agents were at the checkpoint.", 61.0, 66.0, "Deputy Dan", "member", "deliberation"),
            Line("Public comment is closed.", 70.0, 72.0, "Chair Anne", "chair", "procedural"),
            Line("The checkpoint is on Route 2.", 80.0, 84.0, "Deputy Dan", "member", "deliberation"),
            Line("It has been there for years.", 90.0, 95.5, "Deputy Dan", "member", "deliberation"),
        ],
        title="Regular meeting",
        date=dt.date(2023, 5, 10),
    )
    ids = {
        "Deputy Dan": update_person(sessions, "Deputy Dan", affiliation="Vermont Police Association"),
        "Chair Anne": update_person(sessions, "Chair Anne"),
        XSS: update_person(sessions, XSS, affiliation="<b>Union</b>"),
        SECRET: update_person(sessions, SECRET, consent="anonymous", affiliation="Migrant Justice"),
    }
    with sessions() as session, session.begin():
        suggested = Person(name=SUGGESTED, role="member")
        session.add(suggested)
        session.flush()
        ids[SUGGESTED] = suggested.id
    attribute(sessions, NEW, "Deputy Dan", attribution="named-by-chair")
    attribute(sessions, NEW, XSS, attribution="self-identified")
    attribute(sessions, NEW, SECRET, attribution="named-by-chair", attribution_note=f"the chair called {SECRET}")
    attribute(
        sessions,
        NEW,
        None,
        suggested_person_id=ids[SUGGESTED],
        suggestion_score=0.6137,
        embedding=b"\x00\x01secret-voice",
        embedding_model="test-model",
    )
    backend = open_backend(settings)
    for slug in (NEW, OLD):
        with sessions() as session:
            index_meeting(backend, session, slug)
    return app_for(settings).test_client(), ids


def html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_the_meeting_page_says_who_spoke_and_how_we_know(people) -> None:  # type: ignore[no-untyped-def]
    client, ids = people
    page = html(client.get(f"/meetings/{NEW}"))
    speakers = page.split('<h2 id="speakers">', 1)[1].split("</section>", 1)[0]
    items = [re.sub(r"\s+", " ", item) for item in speakers.split("<li>")[1:]]
    # Most talk time first; each named person links to their page.
    assert items[0].startswith(f'<a href="/speakers/{ids[XSS]}">{ESCAPED_XSS}</a>')
    assert "public commenter · &lt;b&gt;Union&lt;/b&gt; · spoke for 0:00:06 ·" in items[0]
    assert "self-identified" in items[0]
    assert items[1].startswith(f'<a href="/speakers/{ids["Chair Anne"]}">Chair Anne</a>')
    assert "chair · spoke for 0:00:06" in items[1] and "curator&#39;s judgement" in items[1]
    assert items[2].startswith(f'<a href="/speakers/{ids["Deputy Dan"]}">Deputy Dan</a>')
    assert "member · Vermont Police Association · spoke for 0:00:04" in items[2]
    assert "named by the chair" in items[2]
    assert items[3].startswith(f'<a href="/speakers/{ids[SECRET]}">farmworker</a>')
    assert "named by the chair" in items[3]
    assert re.match(r"Speaker \d+\b", items[4]) and "not yet identified" in items[4]  # never SPEAKER_nn
    assert "SPEAKER_" not in page
    assert XSS not in page and "<b>Union</b>" not in page


def test_the_meeting_page_shows_no_private_speaker_data(people) -> None:  # type: ignore[no-untyped-def]
    client, ids = people
    page = html(client.get(f"/meetings/{NEW}"))
    for private in (SECRET, "Quintanilla", "Migrant Justice", SUGGESTED, "0.61", "secret-voice", "test-model"):
        assert private not in page, private
    assert f"/speakers/{ids[SUGGESTED]}" not in page
    api = html(client.get(f"/api/meetings/{NEW}"))
    assert "Quintanilla" not in api and SUGGESTED not in api and "secret-voice" not in api


def test_transcript_turns_link_names_to_their_people(people) -> None:  # type: ignore[no-untyped-def]
    client, ids = people
    page = html(client.get(f"/meetings/{NEW}"))
    transcript = page.split('<h2 id="transcript">', 1)[1]
    assert f'<p class="speaker"><a href="/speakers/{ids["Deputy Dan"]}">Deputy Dan</a>, member</p>' in transcript
    assert f'<p class="speaker"><a href="/speakers/{ids[SECRET]}">farmworker</a></p>' in transcript
    assert f'<a href="/speakers/{ids[XSS]}">{ESCAPED_XSS}</a>, public commenter' in transcript
    assert re.search(r'<p class="speaker">Speaker \d+</p>', transcript) and "SPEAKER_" not in transcript


def test_a_persons_page_lists_their_meetings_and_statements(people) -> None:  # type: ignore[no-untyped-def]
    client, ids = people
    response = client.get(f"/speakers/{ids['Deputy Dan']}")
    assert response.status_code == 200
    page = html(response)
    assert "<title>Deputy Dan, member · Testimony Archive</title>" in page
    assert (
        '<meta name="description" content="What Deputy Dan (member) said in public meetings: 4 statements in 2' in page
    )
    assert "<h1>Deputy Dan</h1>" in page and "member · Vermont Police Association" in page
    meetings = page.split('<h2 id="meetings">', 1)[1].split("</section>", 1)[0]
    assert meetings.index("Public comment") < meetings.index("Regular meeting")  # newest first
    assert '<time datetime="2023-05-10">2023-05-10</time> · spoke for 0:00:14 · 3 statements' in meetings
    assert '<time datetime="2024-02-07">2024-02-07</time> · spoke for 0:00:04 · 1 statement<' in meetings
    statements = page.split('<h2 id="statements">', 1)[1]
    links = re.findall(r'href="(/meetings/[^"]+\?t=\d+)#s\d+">at ([\d:]+)</a>', statements)
    assert links == [
        (f"/meetings/{NEW}?t=3721", "1:02:01"),
        (f"/meetings/{OLD}?t=61", "0:01:01"),
        (f"/meetings/{OLD}?t=80", "0:01:20"),
        (f"/meetings/{OLD}?t=90", "0:01:30"),
    ]
    assert "Border Patrol agents were at the checkpoint." in statements
    assert "Public comment is closed." not in statements  # the chair's, not his


def test_a_persons_statements_come_in_pages(people) -> None:  # type: ignore[no-untyped-def]
    client, ids = people
    dan = ids["Deputy Dan"]
    first = html(client.get(f"/speakers/{dan}", query_string={"per_page": 3}))
    assert "Page 1 of 2" in first
    assert f'rel="next" href="/speakers/{dan}?page=2&amp;per_page=3"' in first
    assert re.findall(r"\?t=(\d+)", first.split('<h2 id="statements">', 1)[1]) == ["3721", "61", "80"]
    second = html(client.get(f"/speakers/{dan}", query_string={"per_page": 3, "page": 2}))
    assert re.findall(r"\?t=(\d+)", second.split('<h2 id="statements">', 1)[1]) == ["90"]
    assert f'rel="prev" href="/speakers/{dan}?page=1&amp;per_page=3"' in second and 'rel="next"' not in second
    beyond = client.get(f"/speakers/{dan}", query_string={"page": 9})
    assert beyond.status_code == 200 and "No statements on this page." in html(beyond)
    bad = client.get(f"/speakers/{dan}", query_string={"page": "two"})
    assert bad.status_code == 400 and "page must be a whole number" in html(bad)


def test_unknown_speakers_are_404(people) -> None:  # type: ignore[no-untyped-def]
    client, _ = people
    for path in ("/speakers/987654", "/speakers/0", "/speakers/99999999999999999999", "/speakers/dan"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Not found" in html(response)
    missing = client.get("/api/speakers/987654")
    assert missing.status_code == 404 and missing.get_json() == {"error": "no speaker with id 987654"}
    assert client.get("/api/speakers/99999999999999999999").status_code == 404


def test_an_anonymous_persons_page_shows_only_their_role(people) -> None:  # type: ignore[no-untyped-def]
    client, ids = people
    page = html(client.get(f"/speakers/{ids[SECRET]}"))
    assert "<h1>farmworker</h1>" in page and "<title>farmworker · Testimony Archive</title>" in page
    assert "I pick apples in Franklin County." in page
    for private in ("Quintanilla", "Maria", "Migrant Justice", "the chair called"):
        assert private not in page, private
    api = client.get(f"/api/speakers/{ids[SECRET]}")
    assert "Quintanilla" not in html(api) and "Migrant Justice" not in html(api)
    assert api.get_json()["person"] == {
        "id": ids[SECRET],
        "name": "farmworker",
        "role": "farmworker",
        "affiliation": None,
        "url": f"/speakers/{ids[SECRET]}",
    }


def test_names_on_a_persons_page_are_escaped(people) -> None:  # type: ignore[no-untyped-def]
    client, ids = people
    page = html(client.get(f"/speakers/{ids[XSS]}"))
    assert XSS not in page and "<b>Union</b>" not in page
    assert f"<h1>{ESCAPED_XSS}</h1>" in page and "&lt;b&gt;Union&lt;/b&gt;" in page
    assert f"<title>{ESCAPED_XSS}, public commenter · Testimony Archive</title>" in page
    assert "<script" not in page  # no inline script, and none from the data


def test_the_api_gives_a_persons_record(people) -> None:  # type: ignore[no-untyped-def]
    client, ids = people
    response = client.get(f"/api/speakers/{ids['Deputy Dan']}", query_string={"per_page": 2})
    assert response.status_code == 200 and response.is_json
    record = response.get_json()
    assert record["person"] == {
        "id": ids["Deputy Dan"],
        "name": "Deputy Dan",
        "role": "member",
        "affiliation": "Vermont Police Association",
        "url": f"/speakers/{ids['Deputy Dan']}",
    }
    assert record["meetings"] == [
        {
            "slug": NEW,
            "title": "Public comment",
            "date": "2024-02-07",
            "body": "Vermont Criminal Justice Council",
            "statements": 1,
            "talk_time": 4.6,
            "url": f"/meetings/{NEW}",
        },
        {
            "slug": OLD,
            "title": "Regular meeting",
            "date": "2023-05-10",
            "body": "Vermont Criminal Justice Council",
            "statements": 3,
            "talk_time": 14.5,
            "url": f"/meetings/{OLD}",
        },
    ]
    assert (record["total"], record["page"], record["per_page"]) == (4, 1, 2)
    first = record["statements"][0]
    assert first["meeting"]["slug"] == NEW and (first["start"], first["end"]) == (3721.4, 3726.0)
    assert first["url"] == f"/meetings/{NEW}?t=3721#s{first['segment_id']}" and first["kind"] == "remark"
    assert [s["start"] for s in record["statements"]] == [3721.4, 61.0]
    bad = client.get(f"/api/speakers/{ids['Deputy Dan']}", query_string={"per_page": 1000})
    assert bad.status_code == 400 and "per_page must be between 1 and 100" in bad.get_json()["error"]
    nobody = client.get(f"/api/speakers/{ids[SUGGESTED]}").get_json()  # a person with no attributed voice yet
    assert (nobody["total"], nobody["meetings"], nobody["statements"]) == (0, [], [])


def test_search_results_link_to_the_person(people) -> None:  # type: ignore[no-untyped-def]
    client, ids = people
    page = html(client.get("/search", query_string={"q": "checkpoint"}))
    assert page.count(f'<a href="/speakers/{ids["Deputy Dan"]}">Deputy Dan</a>, member') == 2
    unnamed = html(client.get("/search", query_string={"q": "motion"}))
    assert re.search(r"Speaker \d+ \(not yet identified\)", unnamed) and "SPEAKER_" not in unnamed
    anonymous = html(client.get("/search", query_string={"q": "apples"}))
    assert f'<a href="/speakers/{ids[SECRET]}">farmworker</a> ·' in anonymous and "Quintanilla" not in anonymous
    hit = client.get("/api/search", query_string={"q": "motion"}).get_json()["results"][0]
    assert hit["speaker"]["id"] is None and hit["speaker"]["label"].startswith("SPEAKER_")


def test_search_links_keep_only_search_parameters(people) -> None:  # type: ignore[no-untyped-def]
    client, _ = people
    page = html(
        client.get(
            "/search",
            query_string={
                "q": "checkpoint OR comment OR apples",
                "per_page": 1,
                "_external": 1,
                "_scheme": "javascript",
            },
        )
    )
    assert 'rel="next" href="/search?' in page and "javascript:" not in page


def test_the_speakers_index_lists_people_on_record_and_never_a_suggestion(people) -> None:  # type: ignore[no-untyped-def]
    client, ids = people
    page = html(client.get("/speakers"))
    listed = re.findall(r'<li><a href="/speakers/(\d+)">([^<]+)</a>', page)
    assert {int(i) for i, _ in listed} == {ids["Deputy Dan"], ids["Chair Anne"], ids[XSS]}
    assert "farmworker" not in page and SECRET not in page and "Migrant Justice" not in page  # anonymous: unlisted
    assert SUGGESTED not in page and ESCAPED_XSS in page and XSS not in page
    assert "2 meetings · 4 statements" in page  # Deputy Dan: one line in the new meeting, three in the old
