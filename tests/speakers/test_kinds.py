"""Kinds suggested from roles and the agenda: marked as suggestions, refined as people name voices and add agenda
items, never over a curator's choice; and a freshly ingested meeting has kinds to filter by."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from archive.cli.main import main
from archive.curation.agenda import add_agenda_item
from archive.curation.segments import set_kind
from archive.db.models import Segment
from archive.speakers.kinds import suggested_kind, title_kind
from archive.speakers.people import name_speaker
from tests.factories.media import FIXTURES
from tests.factories.meetings import Line, add_meeting

SLUG = "2024-02-07-council"


def test_titles_and_roles_suggest_kinds() -> None:
    assert title_kind("Public comment on the Fair and Impartial Policing Policy") == "testimony"
    assert title_kind("Call to order and roll call") == "procedural"
    assert title_kind("Discussion of the model policy") == "deliberation"
    assert title_kind("Regular meeting") is None
    assert suggested_kind("public commenter", None) == "testimony"
    assert suggested_kind("Council chair", "testimony") == "procedural"
    assert suggested_kind("Council chair", "deliberation") == "deliberation"
    assert suggested_kind("member", "deliberation") == "deliberation"
    assert suggested_kind("member", "testimony") == "remark"
    assert suggested_kind(None, "testimony") == "testimony"
    assert suggested_kind(None, None) is None


def kinds(sessions) -> list[tuple[str, str | None, bool]]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        rows = session.execute(select(Segment.text, Segment.kind, Segment.kind_suggested).order_by(Segment.start))
        return [tuple(row) for row in rows]


def test_kinds_follow_the_agenda_and_the_voices_people_named(sessions) -> None:  # type: ignore[no-untyped-def]
    add_meeting(
        sessions,
        SLUG,
        [
            Line("The meeting is called to order.", 1.0, 3.0, "a", label_only=True),
            Line("I want to feel safe driving.", 10.0, 14.0, "b", label_only=True),
            Line("I move we adopt the policy.", 30.0, 33.0, "c", label_only=True),
            Line("A curator said so.", 40.0, 42.0, "c", label_only=True, kind="remark"),
        ],
    )
    assert [k for _, k, _ in kinds(sessions)] == [None, None, None, "remark"]  # nothing to go on yet
    with sessions() as session, session.begin():
        add_agenda_item(session, SLUG, 0.0, "Call to order", actor="t")
        add_agenda_item(session, SLUG, 8.0, "Public comment", actor="t")
        add_agenda_item(session, SLUG, 25.0, "Discussion and vote", actor="t")
    assert kinds(sessions) == [
        ("The meeting is called to order.", "procedural", True),
        ("I want to feel safe driving.", "testimony", True),
        ("I move we adopt the policy.", "deliberation", True),
        ("A curator said so.", "remark", False),  # a curator's kind is never suggested over
    ]
    with sessions() as session, session.begin():
        name_speaker(session, SLUG, "SPEAKER_01", "Rosa", role="member", made_by="t")  # a member, in public comment
    assert kinds(sessions)[1] == ("I want to feel safe driving.", "remark", True)
    with sessions() as session, session.begin():
        line = session.scalars(select(Segment).where(Segment.text.like("I want%"))).one()
        set_kind(session, line.id, "remark", actor="t")  # the curator confirms the suggestion
    assert kinds(sessions)[1] == ("I want to feel safe driving.", "remark", False)
    with sessions() as session, session.begin():
        first = session.scalars(select(Segment).where(Segment.text.like("The meeting%"))).one()
        set_kind(session, first.id, None, actor="t")  # a curator says it has no kind: so it stays
        add_agenda_item(session, SLUG, 0.5, "Roll call", actor="t")
    assert kinds(sessions)[0] == ("The meeting is called to order.", None, False)


@pytest.mark.slow
def test_a_freshly_ingested_public_hearing_can_be_filtered_to_testimony(runner, settings) -> None:  # type: ignore[no-untyped-def]
    meeting = ["--body", "Test Council", "--title", "Public hearing on the address", "--date", "1961-01-20"]
    ingested = runner.invoke(main, ["ingest", str(FIXTURES / "jfk.flac"), *meeting, "--no-diarize"])
    assert ingested.exit_code == 0, ingested.output
    found = json.loads(runner.invoke(main, ["search", "country", "--json"]).stdout)
    assert found["facets"]["kind"] == [{"value": "testimony", "count": found["total"]}] and found["total"] >= 1
    testimony = json.loads(runner.invoke(main, ["search", "country", "--kind", "testimony", "--json"]).stdout)
    assert testimony["total"] == found["total"]
    slug = ingested.stdout.splitlines()[-1]
    exported = json.loads(runner.invoke(main, ["export", slug, "--format", "json"]).stdout)
    assert {(s["kind"], s["kind_suggested"]) for s in exported["segments"]} == {("testimony", True)}
