"""Curators' corrections (archive.curation) on both databases: each operation and its revision, word timings
kept through an edit, split and merge round trips, reverts (and reverts of reverts), refusals named by field."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import func, select

from archive import curation
from archive.accounts.users import create_user
from archive.db.models import AgendaItem, AuditEvent, Meeting, Recording, Revision, Segment, TranscriptionRun
from archive.errors import InvalidInput
from tests.factories.meetings import Line, add_meeting

SLUG = "2024-02-07-regular-meeting"
HOT_MIC = "Your fucking here illegally"


def timed(text: str, start: float, step: float = 0.5) -> list[dict]:  # type: ignore[type-arg]
    """Words with their own times, as a transcriber gives them: `step` seconds each."""
    return [
        {
            "word": w,
            "start": round(start + i * step, 3),
            "end": round(start + (i + 1) * step - 0.1, 3),
            "probability": 0.8,
        }
        for i, w in enumerate(text.split())
    ]


@pytest.fixture
def meeting(sessions):  # type: ignore[no-untyped-def]
    """Four lines by three voices, each word timed on its own; returns the segment ids in order."""
    lines = [
        Line("We now open public comment.", 10.0, 12.5, "Chair Anne", "chair", "procedural"),
        Line("I want to feel safe driving.", 20.0, 23.0, "Rosa", "public commenter", "testimony"),
        Line("My children are scared.", 23.0, 25.0, "Rosa", "public commenter", "testimony"),
        Line(HOT_MIC, 3721.4, 3723.4, "Deputy Dan", "member", "remark", ["hot-mic"]),
    ]
    add_meeting(sessions, SLUG, lines)
    with sessions() as session, session.begin():
        segments = session.scalars(select(Segment).order_by(Segment.start)).all()
        for segment in segments:
            segment.words = timed(segment.text, segment.start)
        return [segment.id for segment in segments]


@pytest.fixture
def curator(sessions):  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        return create_user(session, "curator@example.org", "correct horse battery staple", "curator").id


def change(sessions, operation, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run one curation function as the curator in its own committed transaction; its result's id, if any."""
    with sessions() as session, session.begin():
        from archive.db.models import User

        user = session.scalars(select(User)).first()
        result = operation(session, *args, user=user, **kwargs)
        return getattr(result, "id", result)


def latest_revision(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalars(select(Revision.id).order_by(Revision.id.desc())).first()


def segment(sessions, segment_id: int) -> dict:  # type: ignore[type-arg]
    with sessions() as session:
        row = session.get(Segment, segment_id)
        if row is None:
            return {}
        return {
            "text": row.text,
            "words": row.words,
            "start": row.start,
            "end": row.end,
            "speaker_id": row.speaker_id,
            "kind": row.kind,
            "tags": row.tags,
            "revised_at": row.revised_at,
        }


def test_a_text_edit_keeps_the_times_of_the_words_the_machine_heard(sessions, meeting, curator) -> None:  # type: ignore[no-untyped-def]
    hot_mic = meeting[3]
    old = segment(sessions, hot_mic)
    revision_id = change(sessions, curation.edit_text, hot_mic, "You're f---ing here illegally")
    new = segment(sessions, hot_mic)
    assert new["text"] == "You're f---ing here illegally"
    assert [w["word"] for w in new["words"]] == ["You're", "f---ing", "here", "illegally"]
    # "here illegally" were heard by the machine: their times and probabilities stay.
    assert new["words"][2:] == old["words"][2:]
    # The replaced words take the old words' times one to one, but nobody's machine heard them.
    assert [(w["start"], w["end"]) for w in new["words"][:2]] == [(w["start"], w["end"]) for w in old["words"][:2]]
    assert [w["probability"] for w in new["words"][:2]] == [None, None]
    assert (new["start"], new["end"]) == (old["start"], old["end"]) and new["revised_at"] is not None
    with sessions() as session:
        revision = session.get_one(Revision, revision_id)
        assert (revision.action, revision.segment_id, revision.actor) == ("text", hot_mic, "curator@example.org")
        assert revision.before["segments"][0]["text"] == HOT_MIC
        assert revision.after["segments"][0]["text"] == "You're f---ing here illegally"
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "segment-edit")).one()
        assert event.target == f"segment {hot_mic}" and event.detail == {"meeting": SLUG, "revision": revision_id}


def test_inserted_words_are_placed_between_their_neighbours_and_punctuation_still_matches(
    sessions, meeting, curator
) -> None:  # type: ignore[no-untyped-def]
    first = meeting[0]
    old = segment(sessions, first)["words"]  # We now open public comment.  (10.0, 10.5, 11.0, 11.5, 12.0)
    change(sessions, curation.edit_text, first, "we now formally open the public comment!")
    words = segment(sessions, first)["words"]
    assert [w["word"] for w in words] == ["we", "now", "formally", "open", "the", "public", "comment!"]
    # Matched despite case and punctuation: the machine's times and probabilities, the curator's spelling.
    for new, was in [
        (words[0], old[0]),
        (words[1], old[1]),
        (words[3], old[2]),
        (words[5], old[3]),
        (words[6], old[4]),
    ]:
        assert (new["start"], new["end"], new["probability"]) == (was["start"], was["end"], was["probability"])
    # "formally" fills the gap between "now" (ends 10.9) and "open" (starts 11.0); "the" between open and public.
    assert (words[2]["start"], words[2]["end"], words[2]["probability"]) == (10.9, 11.0, None)
    assert old[2]["end"] <= words[4]["start"] <= words[4]["end"] <= old[3]["start"]
    assert all(10.0 <= w["start"] <= w["end"] <= 12.5 for w in words)


def test_edits_that_change_nothing_or_are_not_text_are_refused_by_name(sessions, meeting, curator) -> None:  # type: ignore[no-untyped-def]
    first = meeting[0]
    cases = [
        ("We now open public comment.", "text: nothing changed"),
        ("   \n ", "text: give the words"),
        ("x" * 5001, "text: 5,001 characters is longer than 5,000"),
        ("bell \x07 here", "text: contains a control character (U+0007)"),
    ]
    for text, message in cases:
        with pytest.raises(InvalidInput, match=re.escape(message)):
            change(sessions, curation.edit_text, first, text)
    # Line breaks from a textarea are only spaces.
    change(sessions, curation.edit_text, first, "We now open\r\npublic comment.  Thank you.")
    assert segment(sessions, first)["text"] == "We now open public comment. Thank you."
    with sessions() as session:
        assert session.scalar(select(func.count(Revision.id))) == 1


def test_split_then_merge_gives_back_the_line(sessions, meeting, curator) -> None:  # type: ignore[no-untyped-def]
    line = meeting[1]
    whole = segment(sessions, line)
    with sessions() as session, session.begin():
        first, second = curation.split_segment(session, line, 3, actor="cli")
        ids = (first.id, second.id)
    assert ids[0] == line
    head, tail = segment(sessions, ids[0]), segment(sessions, ids[1])
    assert (head["text"], tail["text"]) == ("I want to", "feel safe driving.")
    assert head["words"] + tail["words"] == whole["words"]
    assert head["end"] == whole["words"][2]["end"] and tail["start"] == whole["words"][3]["start"]
    assert tail["end"] == whole["end"] and head["start"] == whole["start"]
    for half in (head, tail):
        assert (half["speaker_id"], half["kind"], half["tags"]) == (whole["speaker_id"], whole["kind"], whole["tags"])
    change(sessions, curation.merge_segments, ids[0], ids[1])
    merged = segment(sessions, line)
    assert {k: merged[k] for k in ("text", "words", "start", "end")} == {
        k: whole[k] for k in ("text", "words", "start", "end")
    }
    assert segment(sessions, ids[1]) == {}
    with sessions() as session:
        actions = [r.action for r in curation.history(session, SLUG)]
        assert actions == ["merge", "split"]  # newest first
        assert session.scalars(select(Revision).where(Revision.action == "split")).one().actor == "cli"


def test_merging_refuses_other_voices_unless_told_whose_and_lines_that_are_not_next(sessions, meeting, curator) -> None:  # type: ignore[no-untyped-def]
    chair, rosa, rosa_again, dan = meeting
    with pytest.raises(InvalidInput, match="speaker: segments .* are different voices"):
        change(sessions, curation.merge_segments, chair, rosa)
    with pytest.raises(InvalidInput, match=f"second: segment {dan} is not the line right after segment {rosa}"):
        change(sessions, curation.merge_segments, rosa, dan)
    change(sessions, curation.merge_segments, rosa, rosa_again)  # the same voice: no question
    assert segment(sessions, rosa)["text"] == "I want to feel safe driving. My children are scared."
    chair_voice = segment(sessions, chair)["speaker_id"]
    change(sessions, curation.merge_segments, chair, rosa, speaker_id=chair_voice)
    assert segment(sessions, chair)["speaker_id"] == chair_voice


def test_speaker_kind_and_tags_are_checked_and_revised(sessions, meeting, curator) -> None:  # type: ignore[no-untyped-def]
    chair, rosa, _, dan = meeting
    dan_voice = segment(sessions, dan)["speaker_id"]
    change(sessions, curation.set_speaker, rosa, dan_voice)
    assert segment(sessions, rosa)["speaker_id"] == dan_voice
    other = add_meeting(sessions, "other", [Line("Hello.", 1.0, 2.0, "Someone Else")])
    with sessions() as session:
        stranger = session.scalars(select(Segment).where(Segment.meeting_id == other)).one().speaker_id
    with pytest.raises(InvalidInput, match=f"speaker: {stranger} is not a voice of this meeting"):
        change(sessions, curation.set_speaker, rosa, stranger)
    change(sessions, curation.set_kind, chair, "deliberation")
    change(sessions, curation.set_kind, chair, None)
    assert segment(sessions, chair)["kind"] is None
    with pytest.raises(InvalidInput, match="kind: 'gossip' is not one of: testimony, deliberation"):
        change(sessions, curation.set_kind, chair, "gossip")
    change(sessions, curation.set_tags, dan, "hot-mic, Public-Comment")
    assert segment(sessions, dan)["tags"] == ["hot-mic", "public-comment"]
    for tags, message in [
        ("hot_mic", "tags: 'hot_mic' is not lower-case-kebab-case"),
        ("a" * 41, "tags: 'aaaaaaaaaaaaaaaaaaaa'… is longer than 40 characters"),
        (" ".join(f"t{i}" for i in range(11)), "tags: 11 tags, at most 10"),
        ("hot-mic public-comment", "tags: nothing changed"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            change(sessions, curation.set_tags, dan, tags)
    with sessions() as session:
        audit = sorted(session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("segment-%"))))
        assert audit == ["segment-kind", "segment-kind", "segment-speaker", "segment-tags"]


def test_revert_and_revert_of_the_revert(sessions, meeting, curator) -> None:  # type: ignore[no-untyped-def]
    hot_mic = meeting[3]
    original = segment(sessions, hot_mic)
    edit = change(sessions, curation.edit_text, hot_mic, "You're f---ing here illegally")
    corrected = segment(sessions, hot_mic)
    undo = change(sessions, curation.revert, edit)
    assert {k: segment(sessions, hot_mic)[k] for k in ("text", "words")} == {k: original[k] for k in ("text", "words")}
    redo = change(sessions, curation.revert, undo)
    assert segment(sessions, hot_mic)["words"] == corrected["words"]
    with sessions() as session:
        rows = {r.id: r for r in curation.history(session, SLUG)}
        assert [rows[undo].action, rows[undo].reverts_id, rows[redo].reverts_id] == ["revert", edit, undo]
        assert session.scalar(select(func.count()).where(AuditEvent.action == "revision-revert")) == 2


def test_reverting_a_split_and_a_merge_puts_the_rows_back(sessions, meeting, curator) -> None:  # type: ignore[no-untyped-def]
    _, rosa, rosa_again, _ = meeting
    before = [segment(sessions, rosa), segment(sessions, rosa_again)]
    change(sessions, curation.merge_segments, rosa, rosa_again)
    change(sessions, curation.revert, latest_revision(sessions))
    # The second line is back with its own id, words and times.
    restored = [segment(sessions, rosa), segment(sessions, rosa_again)]
    for was, now in zip(before, restored, strict=True):
        assert {k: now[k] for k in ("text", "words", "start", "end", "speaker_id")} == {
            k: was[k] for k in ("text", "words", "start", "end", "speaker_id")
        }
    with sessions() as session, session.begin():
        half_id = curation.split_segment(session, rosa, 2, actor="cli")[1].id
    change(sessions, curation.revert, latest_revision(sessions))
    assert segment(sessions, half_id) == {} and segment(sessions, rosa)["text"] == before[0]["text"]


def test_a_revert_is_refused_while_a_later_change_stands(sessions, meeting, curator) -> None:  # type: ignore[no-untyped-def]
    hot_mic = meeting[3]
    first = change(sessions, curation.edit_text, hot_mic, "You're f---ing here illegally")
    second = change(sessions, curation.set_tags, hot_mic, "hot-mic remark-of-note")
    with pytest.raises(
        InvalidInput, match=rf"segment {hot_mic} was changed again since \(revision {second}\): revert that first"
    ):
        change(sessions, curation.revert, first)
    assert segment(sessions, hot_mic)["text"] == "You're f---ing here illegally"  # nothing was changed
    change(sessions, curation.revert, second)
    change(sessions, curation.revert, first)
    assert segment(sessions, hot_mic)["text"] == HOT_MIC


def test_agenda_items_are_checked_revised_and_revertible(sessions, meeting, curator) -> None:  # type: ignore[no-untyped-def]
    added = change(sessions, curation.add_agenda_item, SLUG, 10.0, "Public comment")
    with sessions() as session:
        item_id = session.scalars(select(AgendaItem.id)).one()
    change(sessions, curation.edit_agenda_item, item_id, 12.0, "Public comment on the policy")
    for start, title, message in [
        (99999.0, "Late", "start: 99999 s is not within the meeting"),
        (5.0, " ", "title: give the words"),
        (5.0, "x" * 301, "title: 301 characters is longer than 300"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            change(sessions, curation.add_agenda_item, SLUG, start, title)
    deleted = change(sessions, curation.delete_agenda_item, item_id)
    change(sessions, curation.revert, deleted)
    with sessions() as session:
        item = session.get_one(AgendaItem, item_id)
        assert (item.start, item.title) == (12.0, "Public comment on the policy")
        revisions = curation.history(session, SLUG)
        assert [r.action for r in revisions] == ["revert", "agenda", "agenda", "agenda"]
        assert revisions[-1].id == added and revisions[-1].segment_id is None
        audit = set(session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("agenda-%"))))
        assert audit == {"agenda-add", "agenda-edit", "agenda-delete"}


def test_an_excerpt_quote_follows_the_correction_and_loses_its_verification(sessions, meeting, curator) -> None:  # type: ignore[no-untyped-def]
    from archive.excerpts.manage import create_excerpt, excerpt_document, verify

    with sessions() as session, session.begin():
        excerpt = create_excerpt(session, SLUG, 3721.4, 3723.4, "Hot mic", created_by="test")
        verify(session, excerpt, verified_by="a curator who listened")
        slug = excerpt.slug
        document = excerpt_document(session, excerpt)
        assert document["quote"] == HOT_MIC and document["verified"] is not None
    change(sessions, curation.edit_text, meeting[3], "You're f---ing here illegally")
    with sessions() as session:
        from archive.excerpts.manage import find_excerpt

        document = excerpt_document(session, find_excerpt(session, slug))
        assert document["quote"] == "You're f---ing here illegally"
        assert document["verified"] is None  # the curator heard other words than these


def test_the_machine_transcript_is_never_changed_and_check_still_passes(
    sessions, settings, meeting, curator, runner
) -> None:  # type: ignore[no-untyped-def]
    from archive.cli.main import main
    from archive.media.store import MediaStore
    from archive.search.index import index_meeting, open_backend

    # Give the factory's meeting real files: a recording and its machine transcript, as ingest leaves them.
    media, transcript = b"RIFF-not-really-audio", b'{"segments": []}\n'
    with sessions() as session, session.begin():
        recording = session.scalars(select(Recording)).one()
        recording.sha256 = hashlib.sha256(media).hexdigest()
        path = MediaStore(settings.media_dir).path_for(recording.sha256, recording.suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(media)
        run = session.scalars(select(TranscriptionRun)).one()
        run.transcript_file = f"{recording.sha256}.whisper.tiny.en.json"
        run.transcript_sha256 = hashlib.sha256(transcript).hexdigest()
        (settings.transcripts_dir / run.transcript_file).write_bytes(transcript)
        machine = settings.transcripts_dir / run.transcript_file
    change(sessions, curation.edit_text, meeting[3], "You're f---ing here illegally")
    with sessions() as session, session.begin():
        curation.split_segment(session, meeting[1], 2, actor="cli")
    with sessions() as session:
        index_meeting(open_backend(settings), session, SLUG)
    assert hashlib.sha256(machine.read_bytes()).hexdigest() == hashlib.sha256(transcript).hexdigest()
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 0, result.output


def test_transcribing_again_is_refused_once_curators_corrected_the_meeting(
    sessions, settings, meeting, curator
) -> None:  # type: ignore[no-untyped-def]
    from archive.ingest.pipeline import transcribe_meeting

    change(sessions, curation.edit_text, meeting[3], "You're f---ing here illegally")
    change(sessions, curation.set_kind, meeting[0], "testimony")
    # Refused before any audio is decoded or any engine is asked: no transcriber is needed to get there.
    with pytest.raises(InvalidInput, match=f"{SLUG} has 2 curator corrections; re-transcribing would discard them"):
        transcribe_meeting(sessions, settings, SLUG, transcriber=None, replace=True)  # type: ignore[arg-type]
    assert segment(sessions, meeting[3])["text"] == "You're f---ing here illegally"
    with sessions() as session:
        assert session.scalar(select(func.count(Meeting.id))) == 1
