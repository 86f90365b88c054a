"""Excerpts: word-exact boundaries and quotes, verification that lapses, the CLI; SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive.cli.main import main
from archive.db.models import Excerpt, Segment
from archive.errors import InvalidInput, NotFound
from archive.excerpts.manage import (
    SLUG_ALPHABET,
    create_excerpt,
    excerpt_document,
    find_excerpt,
    is_verified,
    quote,
    verify,
)
from tests.factories.meetings import Line, add_meeting, timed

SLUG = "2024-02-07-council"


@pytest.fixture
def meeting(sessions) -> str:  # type: ignore[no-untyped-def]
    add_meeting(
        sessions,
        SLUG,
        [
            Line("I only want to feel safe driving to the grocery store.", 30.0, 35.5, speaker="Rosa"),
            Line("You're here illegally and you're worried about being safe?", 41.0, 45.0, speaker="Deputy"),
        ],
    )
    # Real word timings (the factory gives every word its segment's span).
    with sessions() as session, session.begin():
        rosa, deputy = session.scalars(select(Segment).order_by(Segment.start)).all()
        rosa.words = timed(rosa.text, 30.0)
        deputy.words = timed(deputy.text, 41.0, 0.4)
    return SLUG


def test_boundaries_snap_to_words_and_the_quote_is_word_exact(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        made = create_excerpt(session, meeting, 33.2, 35.2, "Safe driving", created_by="test")
        assert (made.start, made.end) == (33.0, 35.4)  # "driving" starts at 33.0, "store." ends at 35.4
        assert quote(session, made.meeting_id, made.start, made.end).text == "driving to the grocery store."
        assert len(made.slug) == 8 and set(made.slug) <= set(SLUG_ALPHABET)


def test_a_span_over_two_voices_keeps_each_voice(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        made = create_excerpt(session, meeting, 35.0, 42.0, "Reply", created_by="test")
        document = excerpt_document(session, made)
    assert [(p["speaker"]["name"], p["text"]) for p in document["parts"]] == [
        ("Rosa", "store."),
        ("Deputy", "You're here illegally"),
    ]
    assert document["quote"] == "store. You're here illegally"
    assert [s["name"] for s in document["speakers"]] == ["Rosa", "Deputy"]
    assert document["context_url"] == f"/meetings/{SLUG}?t=35"
    assert document["verified"] is None


@pytest.mark.parametrize(
    ("start", "end", "title", "message"),
    [
        (10.0, 20.0, "x", "no words between 10 s and 20 s"),
        (40.0, 35.0, "x", "must end after it starts"),
        (30.0, 35.0, "  ", "needs a title"),
        (30.0, 35.0, "x" * 201, "the most is 200"),
    ],
)
def test_bad_excerpts_are_refused_and_nothing_is_stored(  # type: ignore[no-untyped-def]
    sessions, meeting: str, start: float, end: float, title: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message), sessions() as session, session.begin():
        create_excerpt(session, meeting, start, end, title, created_by="test")
    with sessions() as session:
        assert session.scalars(select(Excerpt)).all() == []


def test_an_unknown_meeting_or_excerpt_is_not_found(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        with pytest.raises(NotFound):
            create_excerpt(session, "no-such-meeting", 1, 2, "x", created_by="test")
        with pytest.raises(NotFound):
            find_excerpt(session, "zzzzzzzz")


def test_verification_lapses_when_the_words_change(sessions, meeting: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        made = create_excerpt(session, meeting, 41.0, 45.0, "Hot mic", created_by="test")
        verify(session, made, verified_by="Curator Kim")
        slug = made.slug
    with sessions() as session:
        made = find_excerpt(session, slug)
        document = excerpt_document(session, made)
        assert document["verified"]["by"] == "Curator Kim"
    with sessions() as session, session.begin():  # a curator corrects a word of the transcript
        segment = session.scalars(select(Segment).where(Segment.start == 41.0)).one()
        words = [dict(w) for w in segment.words]
        words[2]["word"] = "illegally,"
        segment.words = words
    with sessions() as session:
        made = find_excerpt(session, slug)
        assert not is_verified(made, quote(session, made.meeting_id, made.start, made.end))
        assert excerpt_document(session, made)["verified"] is None


def test_the_cli_makes_lists_shows_and_verifies(runner: CliRunner, meeting: str) -> None:
    made = runner.invoke(
        main, ["excerpt", "create", SLUG, "--start", "0:00:41", "--end", "0:00:45", "--title", "Hot mic"]
    )
    assert made.exit_code == 0, made.output
    slug = made.stdout.splitlines()[-1]
    assert "“You're here illegally and you're worried about being safe?”" in made.stderr
    listed = runner.invoke(main, ["excerpt", "list"]).stdout
    assert f"{slug}  {SLUG}  0:00:41  machine   Hot mic" in listed
    shown = json.loads(runner.invoke(main, ["excerpt", "show", slug]).stdout)
    assert shown["quote"].startswith("You're here illegally") and shown["verified"] is None
    verified = runner.invoke(main, ["excerpt", "verify", slug, "--by", "Curator Kim"])
    assert verified.exit_code == 0, verified.output
    assert "verified" in runner.invoke(main, ["excerpt", "list"]).stdout
    bad = runner.invoke(main, ["excerpt", "create", SLUG, "--start", "soon", "--end", "1:00", "--title", "x"])
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert "'soon' is not a time" in bad.stderr


def test_a_clip_of_simultaneous_tracks_is_cut_from_the_track_of_the_words_quoted(sessions) -> None:  # type: ignore[no-untyped-def]
    from archive.db.models import Meeting, Recording, TranscriptionRun
    from archive.excerpts.manage import recording_for

    add_meeting(sessions, "tracks", [Line("Now I am afraid every time I drive.", 28.9, 35.6, "Ana")])
    with sessions() as session, session.begin():
        meeting = session.scalars(select(Meeting)).one()
        first = meeting.recordings[0]
        first.track = "witness.wav"
        deputy = Recording(
            meeting=meeting,
            sha256="d" * 64,
            position=1,
            offset=0.0,
            track="deputy.wav",
            suffix=".wav",
            original_name="deputy.wav",
            size=1,
            container="wav",
            duration=first.duration,
            streams=[],
        )
        run = TranscriptionRun(
            recording=deputy,
            engine="whisper",
            model="tiny.en",
            engine_version="t",
            transcript_file="d",
            transcript_sha256="d",
        )
        session.add_all([deputy, run])
        session.flush()
        remark = "You're here illegally"
        session.add(
            Segment(
                meeting_id=meeting.id,
                recording_id=deputy.id,
                run_id=run.id,
                start=30.0,
                end=32.8,
                text=remark,
                words=timed(remark, 30.0),
                tags=[],
            )
        )
    with sessions() as session:
        meeting = session.scalars(select(Meeting)).one()
        assert recording_for(meeting, 30.0, 32.8).track == "deputy.wav"  # the remark fills the span there
        assert recording_for(meeting, 28.9, 35.6).track == "witness.wav"  # the testimony around it
