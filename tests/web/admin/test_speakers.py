"""Curators name voices, correct the diarization, edit people and mark transcripts reviewed, in the browser's forms
(the Flask test client; both databases); every change is audited and reaches search at once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from archive.db.models import Attribution, AuditEvent, Meeting, Person, Segment, Speaker
from tests.factories.accounts import csrf_token, sign_in
from tests.factories.meetings import Line, add_meeting

SLUG = "2024-02-07-council"
PAGE = f"/admin/meetings/{SLUG}/speakers"


@pytest.fixture
def curator(settings, sessions, app_for):  # type: ignore[no-untyped-def]
    add_meeting(
        sessions,
        SLUG,
        [
            Line("I only want to feel safe driving to the grocery store.", 30.0, 35.5, "voice-a", label_only=True),
            Line("Thank you. Next speaker please.", 36.0, 38.0, "voice-b", label_only=True),
            Line("You are here illegally.", 41.0, 45.0, "voice-c", label_only=True),
        ],
    )
    with sessions() as session:
        from archive.search.index import index_meeting, open_backend

        index_meeting(open_backend(settings), session, SLUG)
    client = app_for(settings).test_client()
    sign_in(client, sessions, "curator")
    return client


def post(client, path: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, PAGE), **data})


def events(sessions, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_page_lists_each_voice_with_its_lines(curator) -> None:  # type: ignore[no-untyped-def]
    html = curator.get(PAGE).get_data(as_text=True)
    for label in ("SPEAKER_00", "SPEAKER_01", "SPEAKER_02"):
        assert f'id="voice-{label}"' in html
    assert "grocery store" in html and "unnamed" in html and "The transcript is the machine's" in html


def test_naming_a_voice_is_attributed_audited_and_searchable(curator, sessions) -> None:  # type: ignore[no-untyped-def]
    response = post(
        curator,
        f"{PAGE}/SPEAKER_00/name",
        name="Rosa Morales",
        role="public commenter",
        method="self-identified",
        note="she said her name at 0:30",
    )
    assert response.status_code == 200 and "SPEAKER_00 is now Rosa Morales" in response.get_data(as_text=True)
    with sessions() as session:
        speaker = session.scalars(select(Speaker).where(Speaker.label == "SPEAKER_00")).one()
        assert (speaker.person.name, speaker.attribution) == ("Rosa Morales", "self-identified")
        ledger = session.scalars(select(Attribution).where(Attribution.speaker_id == speaker.id)).one()
        assert ledger.made_by == "curator@example.org" and ledger.note == "she said her name at 0:30"
    (event,) = events(sessions, "speaker-name")
    assert event.target == SLUG and event.detail["name"] == "Rosa Morales"
    found = curator.get("/api/search?q=grocery").get_json()
    assert found["results"][0]["speaker"]["name"] == "Rosa Morales"


def test_merge_and_split_correct_the_diarization(curator, sessions) -> None:  # type: ignore[no-untyped-def]
    merged = post(curator, f"{PAGE}/merge", keep="SPEAKER_00", other="SPEAKER_02")
    assert merged.status_code == 200 and "SPEAKER_02 merged into SPEAKER_00" in merged.get_data(as_text=True)
    split = post(curator, f"{PAGE}/SPEAKER_00/split", start="0:00:40", end="0:00:46", into="")
    assert split.status_code == 200 and "1 line(s) of SPEAKER_00 moved to" in split.get_data(as_text=True)
    with sessions() as session:
        said = session.scalars(select(Segment).where(Segment.start == 41.0)).one()
        assert said.speaker.label != "SPEAKER_00"  # a voice of its own again (a new label)
        assert session.scalars(select(Segment).where(Segment.start == 30.0)).one().speaker.label == "SPEAKER_00"
    assert len(events(sessions, "speaker-merge")) == 1 and len(events(sessions, "speaker-split")) == 1


@pytest.mark.parametrize(
    ("path", "data", "words"),
    [
        ("/SPEAKER_00/name", {"name": "  "}, "the name must not be empty"),
        ("/SPEAKER_00/name", {"name": "Rosa", "person_id": "x"}, "person: give the person"),
        ("/SPEAKER_00/name", {"name": "Rosa", "method": "voice-match"}, "a voice is named by a person"),
        ("/SPEAKER_09/name", {"name": "Rosa"}, "SPEAKER_09"),
        ("/merge", {"keep": "SPEAKER_00", "other": "SPEAKER_00"}, "choose two different voices"),
        ("/SPEAKER_00/split", {"start": "0:50", "end": "0:40"}, "before it starts"),
    ],
)
def test_bad_input_is_named_and_changes_nothing(curator, sessions, path, data, words) -> None:  # type: ignore[no-untyped-def]
    response = post(curator, PAGE + path, **data)
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    with sessions() as session:
        assert session.scalar(select(Person.id)) is None and len(session.scalars(select(Speaker)).all()) == 3
    assert events(sessions, "speaker-name") == [] and events(sessions, "speaker-merge") == []


def test_marking_a_transcript_reviewed_and_unreviewed(curator, sessions) -> None:  # type: ignore[no-untyped-def]
    assert "marked reviewed by curator@example.org" in post(curator, f"/admin/meetings/{SLUG}/review").get_data(
        as_text=True
    )
    with sessions() as session:
        assert session.scalars(select(Meeting)).one().reviewed_by == "curator@example.org"
    assert "<strong>Reviewed</strong> by curator@example.org" in curator.get(f"/meetings/{SLUG}").get_data(as_text=True)
    post(curator, f"/admin/meetings/{SLUG}/review", undo="1")
    with sessions() as session:
        assert session.scalars(select(Meeting)).one().reviewed_at is None
    assert [e.action for e in events(sessions, "meeting-review") + events(sessions, "meeting-unreview")] == [
        "meeting-review",
        "meeting-unreview",
    ]


def test_people_are_edited_and_deleted_with_a_typed_confirmation(curator, sessions) -> None:  # type: ignore[no-untyped-def]
    post(curator, f"{PAGE}/SPEAKER_00/name", name="Rosa Morales", role="public commenter")
    with sessions() as session:
        person_id = session.scalars(select(Person.id)).one()
    saved = post(curator, f"/admin/people/{person_id}", name="Rosa Morales", role="testifier", consent="anonymous")
    assert saved.status_code == 200 and f"person {person_id} saved" in saved.get_data(as_text=True)
    hit = curator.get("/api/search?q=grocery").get_json()["results"][0]
    assert hit["speaker"]["name"] == "testifier"  # anonymous: the role stands in, in search at once
    refused = post(curator, f"/admin/people/{person_id}/delete", confirm="Rosa")
    assert refused.status_code == 400 and "type their name (Rosa Morales) to confirm" in refused.get_data(as_text=True)
    deleted = post(curator, f"/admin/people/{person_id}/delete", confirm="Rosa Morales")
    assert deleted.status_code == 200
    with sessions() as session:
        assert session.get(Person, person_id) is None
    assert [e.action for e in events(sessions, "person-edit")] == ["person-edit"]
    assert len(events(sessions, "person-delete")) == 1


def test_the_pages_escape_what_people_typed(curator, sessions) -> None:  # type: ignore[no-untyped-def]
    post(curator, f"{PAGE}/SPEAKER_00/name", name="<script>alert(1)</script>", role="<b>x</b>")
    for path in (PAGE, "/admin/people"):
        html = curator.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_organizers_and_the_public_cannot_name_voices(settings, sessions, app_for, curator) -> None:  # type: ignore[no-untyped-def]
    organizer = app_for(settings).test_client()
    sign_in(organizer, sessions, "organizer")
    assert organizer.get(PAGE).status_code == 403 and organizer.get("/admin/people").status_code == 403
    anonymous = app_for(settings).test_client()
    assert anonymous.get(PAGE).status_code == 302
    token = re.search(r'name="csrf_token" value="([^"]+)"', anonymous.get("/login").get_data(as_text=True)).group(1)
    refused = anonymous.post(f"{PAGE}/SPEAKER_00/name", data={"csrf_token": token, "name": "Rosa"})
    assert refused.status_code == 302
    with sessions() as session:
        assert session.scalar(select(Person.id)) is None
