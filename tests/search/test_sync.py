"""The index follows every commit by itself (archive.search.sync): a meeting changed by each route that can
change it reads in the index exactly as its public documents do, on SQLite and PostgreSQL and, on PostgreSQL,
with both search backends, with no call to the index anywhere in the test."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.curation.agenda import add_agenda_item
from archive.curation.review import mark_reviewed
from archive.curation.revisions import revert
from archive.curation.segments import edit_text, merge_segments, split_segment
from archive.db.models import Meeting, Person, Segment
from archive.privacy.ledger import lift, redact_phrase, set_consent
from archive.privacy.purge import purge_meeting
from archive.search import SearchRequest
from archive.search.documents import meeting_documents
from archive.search.index import SearchBackend, open_backend
from archive.speakers.people import delete_person, merge_speakers, name_speaker, update_person
from tests.factories.meetings import Line, add_meeting

SLUG = "2024-02-07-hearing"
WHO = {"reason": "asked in writing", "requested_by": "the testifier", "approved_by": "editor@example.org"}
LINES = [
    Line("The chair calls the hearing of the council to order.", 0.0, 4.0, speaker="Ruth Amsel", role="chair"),
    Line("My neighbour Quorran Zyxwhistle was detained at the farm.", 4.0, 9.0, speaker="Marisol Vantablack"),
    Line("Thank you for coming to testify tonight.", 9.0, 12.0, speaker="Ruth Amsel", role="chair"),
    Line("One more thing about the shelter on Elm Street.", 12.0, 15.0, speaker="SPEAKER_X", label_only=True),
]


def _backends(settings: Settings) -> Iterator[SearchBackend]:
    yield open_backend(settings)
    if settings.sqlalchemy_url.startswith("postgresql"):
        backend = open_backend(dataclasses.replace(settings, search_backend="postgres"))
        try:
            yield backend
        finally:
            backend.close()  # type: ignore[attr-defined]


def _indexed(backend: SearchBackend, slug: str) -> list[tuple[int, str, str | None]]:
    page = backend.search(SearchRequest(q="", meeting=slug, per_page=100))
    return sorted((hit.segment_id, hit.text, hit.speaker_name) for hit in page.hits)


def _published(sessions: sessionmaker[Session], slug: str) -> list[tuple[int, str, str | None]]:
    with sessions() as session:
        meeting = session.scalars(select(Meeting).where(Meeting.slug == slug)).one()
        return sorted((d.segment_id, d.text, d.speaker_name) for d in meeting_documents(session, meeting))


def _in_step(sessions: sessionmaker[Session], settings: Settings) -> list[tuple[int, str, str | None]]:
    expected = _published(sessions, SLUG)
    for backend in _backends(settings):
        assert _indexed(backend, SLUG) == expected, backend.name
    return expected


def _change(sessions: sessionmaker[Session], change: Callable[[Session], Any]) -> Any:
    with sessions() as session, session.begin():
        return change(session)


def _segment_id(sessions: sessionmaker[Session], start: float) -> int:
    with sessions() as session:
        return session.scalars(select(Segment.id).where(Segment.start == start)).one()


def _texts(rows: list[tuple[int, str, str | None]]) -> str:
    return " | ".join(text for _, text, _ in rows)


@pytest.fixture
def meeting(sessions: sessionmaker[Session], settings: Settings) -> str:
    add_meeting(sessions, SLUG, LINES)
    return SLUG


def test_every_route_that_changes_a_meeting_leaves_the_index_right(sessions, settings, meeting) -> None:  # type: ignore[no-untyped-def]
    assert len(_in_step(sessions, settings)) == 4  # indexed by add_meeting's commit alone

    # A curator's correction, then its revert.
    first = _segment_id(sessions, 0.0)
    correction = _change(sessions, lambda s: edit_text(s, first, "The chair opens the hearing.", actor="test"))
    assert "The chair opens the hearing." in _texts(_in_step(sessions, settings))
    _change(sessions, lambda s: revert(s, correction.id, actor="test"))
    assert "The chair calls the hearing" in _texts(_in_step(sessions, settings))

    # A split and a merge of lines; an agenda item; a review.
    last = _segment_id(sessions, 12.0)
    second = _change(sessions, lambda s: split_segment(s, last, 4, actor="test")[1].id)
    assert len(_in_step(sessions, settings)) == 5
    _change(sessions, lambda s: merge_segments(s, last, second, actor="test"))
    assert len(_in_step(sessions, settings)) == 4
    _change(sessions, lambda s: add_agenda_item(s, SLUG, 4.0, "Public comment", actor="test"))
    _change(sessions, lambda s: mark_reviewed(s, SLUG, by="editor"))
    _in_step(sessions, settings)

    # Merging two voices (a bulk UPDATE of segments), naming a voice, editing the person, deleting them.
    _change(sessions, lambda s: merge_speakers(s, SLUG, "SPEAKER_00", "SPEAKER_02", made_by="test"))
    assert {name for _, _, name in _in_step(sessions, settings)} == {"Ruth Amsel", "Marisol Vantablack"}
    _change(sessions, lambda s: name_speaker(s, SLUG, "SPEAKER_01", "Odalys Brightwater", made_by="test"))
    assert "Odalys Brightwater" in {name for _, _, name in _in_step(sessions, settings)}
    with sessions() as session:
        person_id = session.scalars(select(Person.id).where(Person.name == "Odalys Brightwater")).one()
    _change(sessions, lambda s: update_person(s, person_id, name="Odalys Brightwater-Reyes", made_by="test"))
    assert "Odalys Brightwater-Reyes" in {name for _, _, name in _in_step(sessions, settings)}
    _change(sessions, lambda s: delete_person(s, s.get_one(Person, person_id), made_by="test"))
    assert {name for _, _, name in _in_step(sessions, settings)} == {"Ruth Amsel", None}

    # A bulk UPDATE written by hand: no flush sees it, the statement hook does.
    _change(sessions, lambda s: s.execute(update(Segment).where(Segment.start == 9.0).values(text="Thanks, all.")))
    assert "Thanks, all." in _texts(_in_step(sessions, settings))

    # The redaction ledger: consent, a phrase and its lift.
    _change(sessions, lambda s: set_consent(s, SLUG, "SPEAKER_01", "unpublished", **WHO, user=None))
    assert "Quorran" not in _texts(_in_step(sessions, settings))
    _change(sessions, lambda s: set_consent(s, SLUG, "SPEAKER_01", "public", **WHO, user=None))
    assert "Quorran Zyxwhistle" in _texts(_in_step(sessions, settings))
    phrase = _change(sessions, lambda s: redact_phrase(s, SLUG, "Quorran Zyxwhistle", **WHO, user=None).id)
    assert "Quorran" not in _texts(_in_step(sessions, settings))
    for backend in _backends(settings):
        assert backend.search(SearchRequest(q="zyxwhistle")).total == 0
    _change(sessions, lambda s: lift(s, phrase, reason="a mistake", user=None))
    assert "Quorran Zyxwhistle" in _texts(_in_step(sessions, settings))

    # A purge: nothing of the meeting is left to find.
    _change(sessions, lambda s: purge_meeting(s, settings, SLUG, **WHO, user=None))
    assert _in_step(sessions, settings) == []


def test_a_rolled_back_change_is_forgotten(sessions, settings, meeting) -> None:  # type: ignore[no-untyped-def]
    """What a transaction noted before its rollback is not indexed: the index keeps what the database keeps."""
    first = _segment_id(sessions, 0.0)
    with sessions() as session:
        with pytest.raises(RuntimeError), session.begin():
            edit_text(session, first, "Words nobody kept.", actor="test")
            raise RuntimeError("the request failed")
        assert session.info.get("search_changed_meetings") is None
    assert "Words nobody kept." not in _texts(_in_step(sessions, settings))
