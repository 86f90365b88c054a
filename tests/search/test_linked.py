"""archive.search.linked on every backend × database: a hit on an interpreter's line shows the original words it
interprets and a hit on testimony its interpretation (confirmed links only), as published, in one query for the
page; on the search page (with `lang`), in /api/search and in `testimony search --json`."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner
from sqlalchemy import event, select

from archive.cli.main import main
from archive.curation.interpretations import set_interpretation
from archive.db.models import Interpretation, Segment
from archive.privacy.ledger import redact_phrase, set_consent
from archive.search import SearchRequest
from archive.search.index import index_meeting, search
from archive.search.linked import with_linked_lines
from tests.factories.meetings import Line, add_meeting

SLUG = "2024-03-06-interpreted-testimony"
LINES = [
    Line("Trabajo doce horas en la granja.", 10.0, 14.0, "Rosa", "public commenter", "testimony", language="es"),
    Line("Tengo miedo de la policía en Swanton.", 15.0, 19.0, "Rosa", "public commenter", "testimony", language="es"),
    Line("I am afraid of the police in Swanton.", 20.0, 24.0, "Ana", "interpreter", "testimony"),
    Line("Ordeñamos las vacas a las tres.", 25.0, 29.0, "Rosa", "public commenter", "testimony", language="es"),
    Line("We milk the cows at three.", 30.0, 34.0, "Ana", "interpreter", "testimony"),
]
WHO = {"reason": "asked", "requested_by": "Rosa", "approved_by": "editor", "user": None}


def interpreted_archive(archive) -> list[int]:  # type: ignore[no-untyped-def]
    """The meeting with one confirmed link (20 s interprets 15 s) and one suggestion (30 s of 25 s); its ids."""
    _, sessions, backend = archive
    meeting_id = add_meeting(sessions, SLUG, LINES, title="Testimony in Spanish", date=dt.date(2024, 3, 6))
    with sessions() as session, session.begin():
        ids = list(session.scalars(select(Segment.id).where(Segment.meeting_id == meeting_id).order_by(Segment.start)))
        set_interpretation(session, ids[2], [ids[1]], actor="curator@example.org")
        session.add(Interpretation(meeting_id=meeting_id, segment_id=ids[4], source_id=ids[3], status="suggested"))
    reindex(archive)
    return ids


def reindex(archive) -> None:  # type: ignore[no-untyped-def]
    _, sessions, backend = archive
    with sessions() as session:
        index_meeting(backend, session, SLUG)


def find(archive, q: str):  # type: ignore[no-untyped-def]
    _, sessions, backend = archive
    with sessions() as session:
        return search(backend, session, SearchRequest(q=q, meeting=SLUG))


def test_a_hit_on_an_interpretation_shows_its_original_and_vice_versa(archive) -> None:  # type: ignore[no-untyped-def]
    ids = interpreted_archive(archive)
    [interpretation] = find(archive, "afraid").hits
    assert interpretation.interpretations == ()
    [original] = interpretation.originals
    assert (original.segment_id, original.language, original.start) == (ids[1], "es", 15.0)
    assert original.text == "Tengo miedo de la policía en Swanton."
    assert original.url == f"/meetings/{SLUG}?t=15#s{ids[1]}"
    [testimony] = find(archive, "miedo").hits
    assert testimony.originals == ()
    assert [(line.segment_id, line.language, line.text) for line in testimony.interpretations] == [
        (ids[2], "en", "I am afraid of the police in Swanton.")
    ]
    # A machine's suggestion is not shown as fact; lines nobody linked have nothing beside them.
    for q in ("vacas", "cows", "granja"):
        assert all(hit.originals == hit.interpretations == () for hit in find(archive, q).hits)
    # Both in one page of hits: each shows the other.
    both = {hit.segment_id: hit for hit in find(archive, "swanton").hits}
    assert [line.segment_id for line in both[ids[2]].originals] == [ids[1]]
    assert [line.segment_id for line in both[ids[1]].interpretations] == [ids[2]]
    result = find(archive, "afraid").to_json()["results"][0]
    assert result["interpretations"] == []
    assert result["originals"] == [
        {
            "segment_id": ids[1],
            "language": "es",
            "start": 15.0,
            "end": 19.0,
            "text": "Tengo miedo de la policía en Swanton.",
            "url": f"/meetings/{SLUG}?t=15#s{ids[1]}",
        }
    ]


def test_withheld_words_never_come_through_the_linked_line(archive) -> None:  # type: ignore[no-untyped-def]
    interpreted_archive(archive)
    _, sessions, _ = archive
    with sessions() as session, session.begin():
        redact_phrase(session, SLUG, "Swanton", **WHO)  # said in both lines
    reindex(archive)
    [interpretation] = find(archive, "afraid").hits
    [original] = interpretation.originals
    assert original.text == "Tengo miedo de la policía en [redacted]."
    [testimony] = find(archive, "miedo").hits
    assert testimony.interpretations[0].text == "I am afraid of the police in [redacted]."
    assert "Swanton" not in json.dumps(find(archive, "police").to_json())
    # The testifier's voice unpublished: her words are gone from search and from beside the interpretation.
    with sessions() as session, session.begin():
        set_consent(session, SLUG, "SPEAKER_00", "unpublished", **WHO)
    reindex(archive)
    [interpretation] = find(archive, "afraid").hits
    assert interpretation.originals == ()
    assert find(archive, "miedo").total == 0


def test_the_links_of_a_whole_page_cost_one_query(archive) -> None:  # type: ignore[no-untyped-def]
    interpreted_archive(archive)
    _, sessions, backend = archive
    statements: list[str] = []

    def note(_connection, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    with sessions() as session:
        page = backend.search(SearchRequest(q="", meeting=SLUG))
        assert page.total == 5
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", note)
        try:
            linked = with_linked_lines(session, page)
        finally:
            event.remove(engine, "before_cursor_execute", note)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert sum(len(hit.originals) + len(hit.interpretations) for hit in linked.hits) == 2


def test_the_search_page_the_api_and_the_cli_show_the_linked_line(archive, app_for) -> None:  # type: ignore[no-untyped-def]
    ids = interpreted_archive(archive)
    settings, _, _ = archive
    client = app_for(settings).test_client()
    html = client.get("/search", query_string={"q": "afraid"}).get_data(as_text=True)
    assert (
        f'Original, said in Spanish (<a href="/meetings/{SLUG}?t=15#s{ids[1]}">at 0:00:15</a>): '
        '<q lang="es">Tengo miedo de la policía en Swanton.</q>'
    ) in html
    html = client.get("/search", query_string={"q": "miedo"}).get_data(as_text=True)
    assert "Interpretation into English, by the meeting’s interpreter" in html
    assert '<q lang="en">I am afraid of the police in Swanton.</q>' in html
    api = client.get("/api/search", query_string={"q": "afraid"}).get_json()
    assert [line["text"] for line in api["results"][0]["originals"]] == ["Tengo miedo de la policía en Swanton."]
    env = {
        "TESTIMONY_HOME": str(settings.home),
        "TESTIMONY_DATABASE_URL": settings.database_url,
        "TESTIMONY_SEARCH_BACKEND": settings.search_backend,
    }
    result = CliRunner(env=env).invoke(main, ["search", "miedo", "--json"])
    assert result.exit_code == 0, result.output
    [hit] = json.loads(result.stdout)["results"]
    assert [(line["language"], line["segment_id"]) for line in hit["interpretations"]] == [("en", ids[2])]
    table = CliRunner(env=env).invoke(main, ["search", "afraid"]).stdout
    assert "original (es, 0:00:15): Tengo miedo de la policía en Swanton." in table


def test_a_link_confirmed_while_the_site_runs_shows_on_its_next_search(archive, app_for) -> None:  # type: ignore[no-untyped-def]
    """The site skips the lines' query while no link is confirmed (archive.web.context.confirmed_links), known per
    content_version: confirming one is seen by the next search of the same running site."""
    settings, sessions, _ = archive
    meeting_id = add_meeting(sessions, SLUG, LINES, title="Testimony in Spanish", date=dt.date(2024, 3, 6))
    reindex(archive)
    client = app_for(settings).test_client()
    original = "Tengo miedo de la policía en Swanton.</q>"
    assert "<mark>afraid</mark> of the police" in (
        before := client.get("/search", query_string={"q": "afraid"}).get_data(as_text=True)
    )
    assert original not in before
    assert client.get("/api/search", query_string={"q": "afraid"}).get_json()["results"][0]["originals"] == []
    with sessions() as session, session.begin():
        ids = list(session.scalars(select(Segment.id).where(Segment.meeting_id == meeting_id).order_by(Segment.start)))
        set_interpretation(session, ids[2], [ids[1]], actor="curator@example.org")
    assert original in client.get("/search", query_string={"q": "afraid"}).get_data(as_text=True)
    [line] = client.get("/api/search", query_string={"q": "afraid"}).get_json()["results"][0]["originals"]
    assert line["segment_id"] == ids[1]
