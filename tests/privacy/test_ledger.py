"""Consent and redaction (archive.privacy) on SQLite and PostgreSQL: each operation, the append-only ledger, the
public view every surface reads, the search index and a purge's tombstone."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from archive.db.models import AuditEvent, Meeting, Overlap, Recording, Redaction, Segment, Speaker
from archive.errors import InvalidInput
from archive.media.store import MediaStore
from archive.operations.check import check_archive
from archive.privacy.ledger import lift, redact_phrase, redact_range, set_consent
from archive.privacy.purge import TOMBSTONE_TITLE, purge_meeting, remove_files
from archive.privacy.view import silenced_ranges
from archive.publish.documents import meeting_document
from archive.publish.formats import render
from archive.search import SearchRequest
from archive.search.index import index_meeting, open_backend
from tests.factories.meetings import Line, add_meeting, update_person

SLUG = "2026-11-03-hearing"
WHO = {"reason": "asked by email", "requested_by": "the testifier", "approved_by": "editor@example.org"}
LINES = [
    Line("The chair calls the hearing to order.", 0.0, 4.0, speaker="Chair Ruth Amsel", role="chair"),
    Line("My neighbour Zyxwhistle Quorran was detained last week.", 4.0, 9.0, speaker="Marisol Vantablack"),
    Line("Thank you for coming to testify.", 9.0, 12.0, speaker="Chair Ruth Amsel", role="chair"),
    Line("I wish to add one thing about the shelter.", 12.0, 15.0, speaker="Marisol Vantablack"),
]


@pytest.fixture
def meeting(sessions, settings) -> str:  # type: ignore[no-untyped-def]
    add_meeting(sessions, SLUG, LINES)
    update_person(sessions, "Marisol Vantablack", role="tenant organizer", affiliation="Zenith Tenants Union")
    _reindex(sessions, settings)
    return SLUG


def _reindex(sessions, settings) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        index_meeting(open_backend(settings), session, SLUG)


def _document(sessions) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return meeting_document(session, SLUG)


def _ledger(sessions) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    columns = list(Redaction.__table__.columns)
    with sessions() as session:
        return [tuple(row) for row in session.execute(select(*columns).order_by(Redaction.id))]


def _apply(sessions, settings, operation, *args, **kwargs):  # type: ignore[no-untyped-def]
    """An operation in its own transaction, as the admin pages do: the index follows the commit by itself."""
    with sessions() as session:
        with session.begin():
            row = operation(session, *args, **kwargs)
        return row.id if isinstance(row, Redaction) else row


def _search(settings, q: str):  # type: ignore[no-untyped-def]
    """Whoosh's answer; on PostgreSQL its own full-text backend must give the same hits, names and texts."""
    page = open_backend(settings).search(SearchRequest(q=q))
    if settings.sqlalchemy_url.startswith("postgresql"):
        backend = open_backend(dataclasses.replace(settings, search_backend="postgres"))
        other = backend.search(SearchRequest(q=q))
        backend.close()
        assert other.total == page.total
        assert sorted((h.speaker_name, h.text) for h in other.hits) == sorted(
            (h.speaker_name, h.text) for h in page.hits
        )
        assert [(f.value, f.count) for f in other.facets.get("speaker", [])] == [
            (f.value, f.count) for f in page.facets.get("speaker", [])
        ]
    return page


def test_name_withheld_is_a_public_commenter_everywhere(sessions, settings, meeting) -> None:  # type: ignore[no-untyped-def]
    _apply(sessions, settings, set_consent, SLUG, "SPEAKER_01", "name-withheld", **WHO, user=None)
    document = _document(sessions)
    everything = json.dumps(document) + "".join(render(document, fmt) for fmt in ("txt", "vtt", "srt", "csv", "rttm"))
    for secret in ("Marisol", "Vantablack", "tenant organizer", "Zenith"):
        assert secret not in everything
    names = {s["speaker"]["name"] for s in document["segments"]}
    assert names == {"Chair Ruth Amsel", "Public commenter 1"}
    withheld = [s for s in document["segments"] if s["speaker"]["label"] == "SPEAKER_01"]
    assert all(s["speaker"]["person_id"] is None and s["speaker"]["role"] is None for s in withheld)
    assert any("name is withheld at the speaker's request on" in n for n in document["notices"])
    # The index says the same: the pseudonym is a facet, the name finds nothing.
    page = _search(settings, "detained")
    assert [h.speaker_name for h in page.hits] == ["Public commenter 1"]
    assert [f.value for f in page.facets["speaker"]] == ["Public commenter 1"]
    assert _search(settings, "speaker:vantablack").total == 0
    with sessions() as session:
        assert session.scalar(select(Speaker.consent).where(Speaker.label == "SPEAKER_01")) == "name-withheld"
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "consent-change")).one()
        assert event.target == f"meeting:{SLUG}" and event.detail["consent"] == "name-withheld"


def test_unpublished_segments_are_not_published_at_all(sessions, settings, meeting) -> None:  # type: ignore[no-untyped-def]
    _apply(sessions, settings, set_consent, SLUG, "SPEAKER_01", "unpublished", **WHO, user=None)
    document = _document(sessions)
    assert [s["start"] for s in document["segments"]] == [0.0, 9.0]
    assert [s["label"] for s in document["speakers"]] == ["SPEAKER_00"]
    assert "detained" not in json.dumps(document) and "shelter" not in json.dumps(document)
    assert _search(settings, "detained").total == 0
    assert _search(settings, "shelter").total == 0
    with sessions() as session:
        texts = session.scalars(select(Segment.public_text).order_by(Segment.start)).all()
        assert texts == [None, "", None, ""]
        # Their speech is silent in the public audio too.
        assert silenced_ranges(session, session.scalars(select(Meeting)).one()) == [(4.0, 9.0), (12.0, 15.0)]
        # Withheld segments are rightly absent from the index: `testimony check` does not call them missing.
        assert not [p for p in check_archive(session, settings) if "search index" in p]


def test_voice_withheld_silences_every_turn_but_keeps_the_words(sessions, settings, meeting) -> None:  # type: ignore[no-untyped-def]
    _apply(sessions, settings, set_consent, SLUG, "SPEAKER_01", "voice-withheld", **WHO, user=None)
    with sessions() as session:
        speaker = session.scalars(select(Speaker).where(Speaker.label == "SPEAKER_01")).one()
        speaker.turns = [[3.9, 9.1], [11.8, 15.2]]
        session.commit()
        meeting_row = session.scalars(select(Meeting)).one()
        assert silenced_ranges(session, meeting_row) == [(3.9, 9.1), (11.8, 15.2)]
    document = _document(sessions)
    assert "detained" in json.dumps(document)  # the words stay; only the voice is withheld
    assert "Marisol Vantablack" in {s["speaker"]["name"] for s in document["segments"]}
    assert any("audio is withheld" in n for n in document["notices"])


def test_phrase_and_range_redactions_and_their_lift(sessions, settings, meeting) -> None:  # type: ignore[no-untyped-def]
    phrase = _apply(sessions, settings, redact_phrase, SLUG, "zyxwhistle  QUORRAN", **WHO, user=None)
    texts = [s["text"] for s in _document(sessions)["segments"]]
    assert texts[1] == "My neighbour [redacted] was detained last week."
    assert _search(settings, "zyxwhistle").total == 0
    assert _search(settings, "detained").hits[0].text == texts[1]
    with sessions() as session:
        # The words' times are silenced (with a little to spare each side).
        meeting_row = session.scalars(select(Meeting)).one()
        assert silenced_ranges(session, meeting_row) == [(3.92, 9.08)]
    span = _apply(sessions, settings, redact_range, SLUG, 11.5, 15.5, **WHO, user=None)
    segments = _document(sessions)["segments"]
    assert segments[3]["text"] == "[redacted]" and segments[3]["words"][0]["word"] == "[redacted]"
    assert _search(settings, "shelter").total == 0
    before = _ledger(sessions)
    _apply(sessions, settings, lift, phrase, reason="the testifier changed her mind", user=None)
    assert _document(sessions)["segments"][1]["text"] == LINES[1].text
    assert _search(settings, "zyxwhistle").total == 1
    assert _document(sessions)["segments"][3]["text"] == "[redacted]"  # the range stays in force
    after = _ledger(sessions)
    assert after[: len(before)] == before  # append-only: the lifted row is unchanged
    lifts_id = [c.name for c in Redaction.__table__.columns].index("lifts_id")
    assert after[-1][lifts_id] == phrase
    with pytest.raises(InvalidInput, match="already lifted"):
        _apply(sessions, settings, lift, phrase, reason="again", user=None)
    with sessions() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions == ["redaction-add", "redaction-add", "redaction-lift"]
    assert span > phrase


@pytest.mark.parametrize(
    ("operation", "args", "who", "message"),
    [
        (set_consent, (SLUG, "SPEAKER_01", "secret"), WHO, "consent must be one of"),
        (set_consent, (SLUG, "SPEAKER_01", "public"), {**WHO, "reason": " "}, "reason"),
        (redact_range, (SLUG, 9.0, 4.0), WHO, "start, end"),
        (redact_phrase, (SLUG, " ... "), WHO, "phrase"),
        (redact_phrase, (SLUG, "name"), {**WHO, "approved_by": ""}, "approved by"),
    ],
)
def test_bad_requests_name_the_field_and_change_nothing(sessions, settings, meeting, operation, args, who, message):  # type: ignore[no-untyped-def]
    with sessions() as session, pytest.raises(InvalidInput, match=message), session.begin():
        operation(session, *args, **who, user=None)
    assert _ledger(sessions) == []
    assert _document(sessions)["segments"][1]["text"] == LINES[1].text


def test_purge_leaves_a_tombstone_and_a_consistent_archive(sessions, settings, meeting) -> None:  # type: ignore[no-untyped-def]
    store = MediaStore(settings.media_dir)
    with sessions() as session:
        recording = session.scalars(select(Recording)).one()
        media = store.path_for(recording.sha256, recording.suffix)
        transcript = settings.transcripts_dir / f"{recording.sha256}.json"
    media.parent.mkdir(parents=True, exist_ok=True)
    media.write_bytes(b"a recording")
    settings.transcripts_dir.mkdir(parents=True, exist_ok=True)
    transcript.write_text("{}")
    with sessions() as session, session.begin():  # two voices at once: who spoke over whom goes too
        session.add(Overlap(meeting_id=recording.meeting_id, recording_id=recording.id, start=1, end=2, voices=[]))
    with sessions() as session:
        with session.begin():
            files = purge_meeting(session, settings, SLUG, **WHO, user=None)
        assert media in files and transcript in files
        assert remove_files(files) == 2
    assert not media.exists() and not transcript.exists()
    document = _document(sessions)
    assert document["meeting"]["title"] == TOMBSTONE_TITLE
    assert document["meeting"]["date"] == "2024-02-07" and document["meeting"]["body"]
    assert document["segments"] == [] and document["speakers"] == [] and document["overlaps"] == []
    assert any("removed at a speaker's request" in n for n in document["notices"])
    assert _search(settings, "chair").total == 0
    with sessions() as session:
        assert session.scalar(select(func.count(Segment.id))) == 0
        assert session.scalar(select(func.count(Speaker.id))) == 0
        assert session.scalar(select(func.count(Overlap.id))) == 0
        assert check_archive(session, settings) == []  # the tombstone is not broken
        assert session.scalars(select(Redaction.scope)).all() == ["purge"]
        session.rollback()
        with pytest.raises(InvalidInput, match="already purged"), session.begin():
            purge_meeting(session, settings, SLUG, **WHO, user=None)


def test_a_new_segment_saying_a_withheld_phrase_is_withheld_once_indexed(sessions, settings, meeting) -> None:  # type: ignore[no-untyped-def]
    """A new transcript or a correction brings the words back as new rows: indexing the meeting withholds them."""
    _apply(sessions, settings, redact_phrase, SLUG, "Zyxwhistle Quorran", **WHO, user=None)
    with sessions() as session, session.begin():
        old = session.scalars(select(Segment).order_by(Segment.start)).all()[1]
        session.add(
            Segment(
                meeting_id=old.meeting_id,
                recording_id=old.recording_id,
                run_id=old.run_id,
                speaker_id=old.speaker_id,
                start=15.5,
                end=17.0,
                text="Again: Zyxwhistle Quorran.",
                words=[],
            )
        )
    _reindex(sessions, settings)
    with sessions() as session:
        assert session.scalar(select(Segment.public_text).where(Segment.start == 15.5)) == "Again: [redacted]."
    assert _search(settings, "zyxwhistle").total == 0
    assert _search(settings, "again").hits[0].text == "Again: [redacted]."
