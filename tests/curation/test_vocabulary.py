"""A body's vocabulary (both databases): curators' list, its audit, and the glossary built from the archive."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from archive.curation.vocabulary import (
    Entry,
    add_terms,
    as_text,
    body_glossary,
    find_body,
    meeting_glossary,
    parse_entries,
    remove_terms,
    set_vocabulary,
    terms_of,
)
from archive.db.models import AgendaItem, AuditEvent, DistrictTown, Legislator, Meeting, Speaker
from archive.errors import InvalidInput, NotFound
from archive.transcribe.glossary import TERM_TOKENS, count_tokens
from tests.factories.meetings import Line, add_meeting

BODY = "Addison County Public Safety Advisory Board"


@pytest.fixture
def board(sessions):  # type: ignore[no-untyped-def]
    """Two meetings of the board: people a curator named, a voice only a machine matched, an agenda item, and a
    legislator and a town of the directory said aloud."""
    add_meeting(
        sessions,
        "2024-01-10-board",
        [Line("Welcome to the board.", 0.0, 2.0, "Denise Bouchard", "Chair")],
        body=BODY,
        date=dt.date(2024, 1, 10),
    )
    add_meeting(
        sessions,
        "2024-02-07-board",
        [
            Line("I represent Vergennes, and Ruth Hardy sends her regards.", 0.0, 4.0, "Peter Elmore", "Sheriff"),
            Line("Thank you.", 4.0, 5.0, "Matched Voice", "member"),
        ],
        body=BODY,
        date=dt.date(2024, 2, 7),
    )
    with sessions() as session, session.begin():
        machine = session.scalar(select(Speaker).where(Speaker.person.has(name="Matched Voice")))
        # A machine's voice match is only a suggestion (never an attribution): it must not guide transcription.
        machine.suggested_person_id, machine.person_id, machine.attribution = machine.person_id, None, None
        latest = session.scalar(select(Meeting).where(Meeting.slug == "2024-02-07-board"))
        session.add(AgendaItem(meeting_id=latest.id, start=0.0, title="Fair and impartial policing policy"))
        session.add(Legislator(name="Ruth Hardy", chamber="senate", district="Addison"))
        session.add(Legislator(name="Never Mentioned", chamber="house", district="Addison-1"))
        session.add(DistrictTown(chamber="house", district="Addison-3", town="Vergennes"))
    return sessions


def test_a_body_without_a_list_of_its_own_is_unguided(board) -> None:  # type: ignore[no-untyped-def]
    with board() as session:
        assert body_glossary(session, BODY) is None
        assert body_glossary(session, "No Such Body") is None
        assert meeting_glossary(session, "2024-02-07-board") is None


def test_the_glossary_puts_the_list_first_then_what_the_archive_knows(board) -> None:  # type: ignore[no-untyped-def]
    with board() as session, session.begin():
        body = find_body(session, "addison-county-public-safety-advisory-board")
        set_vocabulary(session, body, "Migrant Justice | an advocacy group\nSwanton\n", actor="curator@example.org")
    with board() as session:
        glossary = meeting_glossary(session, "2024-01-10-board")
    assert glossary is not None
    assert glossary.terms == (
        "Migrant Justice",
        "Swanton",
        "Peter Elmore",  # the most recent meeting's people first
        "Denise Bouchard",
        "Sheriff",
        "Chair",
        "Fair and impartial policing policy",
        "Vergennes",  # said before, in the order said
        "Ruth Hardy",
    )  # never a voice only a machine matched, nor a legislator nobody mentioned
    assert glossary.sources["Swanton"] == "body's list" and glossary.sources["Peter Elmore"] == "person"
    assert glossary.sources["Ruth Hardy"] == "mentioned before"


def test_the_glossary_fits_whispers_prompt(board) -> None:  # type: ignore[no-untyped-def]
    many = "\n".join(f"Townsend Brook Number {i}" for i in range(120))
    with board() as session, session.begin():
        set_vocabulary(session, find_body(session, BODY), many, actor="cli")
    with board() as session:
        glossary = body_glossary(session, BODY)
    assert glossary is not None and 10 < len(glossary.terms) < 120
    assert glossary.terms[0] == "Townsend Brook Number 0"  # the list's order: likeliest first
    assert count_tokens(glossary.text) <= TERM_TOKENS


def test_adding_removing_and_every_change_audited(board) -> None:  # type: ignore[no-untyped-def]
    with board() as session, session.begin():
        body = find_body(session, BODY)
        added = add_terms(session, body, [Entry("Vergennes", "a city"), Entry("Bristol")], actor="cli")
        assert [e.term for e in added] == ["Vergennes", "Bristol"]
        assert add_terms(session, body, [Entry("vergennes")], actor="cli") == []  # already there, any case
        assert remove_terms(session, body, ["BRISTOL", "Nowhere"], actor="cli") == ["Bristol"]
    with board() as session:
        body = find_body(session, BODY)
        assert as_text(terms_of(session, body)) == "Vergennes | a city"
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions == ["vocabulary-add", "vocabulary-remove"]


def test_bad_lists_are_refused_with_the_line() -> None:
    assert parse_entries("Addison County\n\n  Vergennes  |  a city \n") == [
        Entry("Addison County"),
        Entry("Vergennes", "a city"),
    ]
    for text, message in (
        ("Vergennes\nvergennes", "line 2: 'vergennes' is already in the list"),
        ("x" * 101, "line 1: term: 101 characters is longer than 100"),
        ("Vergennes | " + "n" * 301, "line 1: note: 301 characters is longer than 300"),
        ("bell\x07", "line 1: term: contains a control character (U+0007)"),
        ("\n".join(f"t{i}" for i in range(201)), "201 terms: a body's vocabulary holds at most 200"),
    ):
        with pytest.raises(InvalidInput, match=re.escape(message)):
            parse_entries(text)


def test_an_unknown_body_names_the_known_ones(board) -> None:  # type: ignore[no-untyped-def]
    with board() as session, pytest.raises(NotFound, match="addison-county-public-safety-advisory-board"):
        find_body(session, "Nobody")
