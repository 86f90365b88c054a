"""Interpretation links (archive.ingest.interpretations suggests, archive.curation.interpretations decides) on both
databases: the suggestion, a curator's confirmation, change and removal as revisions, and what the public sees (the
meeting's JSON, an excerpt of the Spanish testimony and its citation)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from archive.curation.interpretations import confirmed_links, set_interpretation, suggested_links
from archive.curation.revisions import revert
from archive.db.models import AuditEvent, Excerpt, Revision, Segment
from archive.errors import InvalidInput
from archive.excerpts.citations import citations
from archive.excerpts.manage import excerpt_document
from archive.ingest.interpretations import suggest_interpretations
from archive.publish.documents import meeting_document
from tests.factories.meetings import Line, add_meeting

SLUG = "2024-03-06-interpreted-testimony"
LINES = [
    Line("Our next speaker will testify in Spanish.", 0.0, 5.0, "Chair Anne", "chair"),
    Line("Me llamo María y trabajo en una granja.", 6.0, 10.0, "María", "public commenter", language="es"),
    Line("Llevo ocho años en este país.", 10.5, 12.0, "María", "public commenter", language="es"),
    Line("My name is Maria and I work on a farm. I have been here eight years.", 13.0, 19.0, "Ana", "interpreter"),
    Line("Tengo miedo de la policía.", 20.0, 23.0, "María", "public commenter", language="es"),
    Line("I am afraid of the police.", 24.0, 27.0, "Ana", "interpreter"),
    Line("Thank you, María.", 28.0, 30.0, "Chair Anne", "chair"),
]


@pytest.fixture
def ids(sessions) -> list[int]:  # type: ignore[no-untyped-def]
    meeting_id = add_meeting(sessions, SLUG, LINES, date=dt.date(2024, 3, 6))
    with sessions() as session, session.begin():
        assert suggest_interpretations(session, meeting_id) == 2
    with sessions() as session:
        return list(session.scalars(select(Segment.id).order_by(Segment.start)))


def test_the_interpreters_turns_are_suggested_and_nothing_else(sessions, ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        meeting_id = session.get_one(Segment, ids[0]).meeting_id
        # The chair's English before the testimony and after the interpretation interprets nothing, nor does
        # the testimony interpret the chair (Spanish is not the meeting's most spoken language).
        assert suggested_links(session, meeting_id) == {ids[3]: [ids[1], ids[2]], ids[5]: [ids[4]]}
        assert confirmed_links(session, meeting_id) == {}
        document = meeting_document(session, SLUG)
    # A suggestion is not published.
    assert all(line["interpretation_of"] == [] for line in document["segments"])
    assert [line["language"] for line in document["segments"]] == ["en", "es", "es", "en", "es", "en", "en"]


def test_a_curator_confirms_changes_and_removes_with_revisions(sessions, ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        set_interpretation(session, ids[3], [ids[1], ids[2]], actor="curator@example.org")
    with sessions() as session:
        meeting_id = session.get_one(Segment, ids[0]).meeting_id
        assert confirmed_links(session, meeting_id) == {ids[3]: [ids[1], ids[2]]}
        assert suggested_links(session, meeting_id) == {ids[5]: [ids[4]]}
        lines = {line["id"]: line for line in meeting_document(session, SLUG)["segments"]}
        assert lines[ids[3]]["interpretation_of"] == [ids[1], ids[2]]
        revision = session.scalars(select(Revision).where(Revision.action == "interpretation")).one()
        assert revision.actor == "curator@example.org" and revision.segment_id == ids[3]
        assert session.scalars(select(AuditEvent.action).where(AuditEvent.action == "interpretation-link")).all()
    with sessions() as session, session.begin():
        with pytest.raises(InvalidInput, match="nothing changed"):
            set_interpretation(session, ids[3], [ids[2], ids[1]], actor="curator@example.org")
        with pytest.raises(InvalidInput, match="cannot interpret itself"):
            set_interpretation(session, ids[3], [ids[3]], actor="curator@example.org")
        with pytest.raises(InvalidInput, match="line 999999 is not a line of this meeting"):
            set_interpretation(session, ids[3], [999999], actor="curator@example.org")
    with sessions() as session, session.begin():
        changed = set_interpretation(session, ids[3], [ids[1]], actor="curator@example.org")
        removed = set_interpretation(session, ids[5], [], actor="curator@example.org")  # a wrong suggestion
        changed_id, removed_id = changed.id, removed.id
    with sessions() as session:
        meeting_id = session.get_one(Segment, ids[0]).meeting_id
        assert confirmed_links(session, meeting_id) == {ids[3]: [ids[1]]}
        assert suggested_links(session, meeting_id) == {}
    with sessions() as session, session.begin():
        revert(session, changed_id, actor="curator@example.org")
        revert(session, removed_id, actor="curator@example.org")
    with sessions() as session:
        meeting_id = session.get_one(Segment, ids[0]).meeting_id
        assert confirmed_links(session, meeting_id) == {ids[3]: [ids[1], ids[2]]}
        assert suggested_links(session, meeting_id) == {ids[5]: [ids[4]]}
    with sessions() as session, session.begin():  # a new suggestion pass keeps what a curator decided
        suggest_interpretations(session, meeting_id)
    with sessions() as session:
        assert confirmed_links(session, meeting_id) == {ids[3]: [ids[1], ids[2]]}


def test_an_excerpt_of_the_testimony_carries_the_interpretation_labelled(sessions, ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        set_interpretation(session, ids[3], [ids[1], ids[2]], actor="curator@example.org")
        meeting_id = session.get_one(Segment, ids[0]).meeting_id
        excerpt = Excerpt(slug="abcd1234", meeting_id=meeting_id, start=6.0, end=12.0, title="Me llamo María")
        session.add(excerpt)
    with sessions() as session:
        excerpt = session.scalars(select(Excerpt)).one()
        document = excerpt_document(session, excerpt)
        cited = citations(
            document, base_url="https://archive.example", site_name="Archive", accessed=dt.date(2025, 1, 2)
        )
    assert document["languages"] == ["es"]
    assert document["quote"].startswith("Me llamo María")  # the words as said, never a translation
    assert [(p["language"], p["start"]) for p in document["interpretation"]] == [("en", 13.0)]
    assert document["interpretation"][0]["text"].startswith("My name is Maria")
    assert "In Spanish." in cited["plain"] and "In Spanish." in cited["chicago"]
    assert "(interpretation into English, by the meeting's interpreter: “My name is Maria" in cited["plain"]
    assert '"language": "es"' in cited["csl-json"]
