"""`testimony check` beyond files: rows that contradict each other are reported."""

from __future__ import annotations

from sqlalchemy import select

from archive.db.models import Meeting, Segment, Speaker
from archive.operations.check import check_archive
from tests.factories.meetings import Line, add_meeting


def test_a_segment_attributed_to_another_meetings_voice_is_reported(sessions, settings) -> None:  # type: ignore[no-untyped-def]
    add_meeting(sessions, "one", [Line("Hello.", 0.0, 1.0, speaker="Rosa")])
    add_meeting(sessions, "two", [Line("Hi.", 0.0, 1.0, speaker="Ann")])
    with sessions() as session:
        assert not [p for p in check_archive(session, settings) if "voice of meeting" in p]
    with sessions() as session, session.begin():
        one, two = (session.scalar(select(Meeting.id).where(Meeting.slug == slug)) for slug in ("one", "two"))
        segment = session.scalars(select(Segment).where(Segment.meeting_id == one)).one()
        segment.speaker_id = session.scalars(select(Speaker.id).where(Speaker.meeting_id == two)).one()
        segment_id = segment.id
    with sessions() as session:
        problems = check_archive(session, settings)
    assert f"segment {segment_id} of meeting {one} is attributed to a voice of meeting {two}" in problems
