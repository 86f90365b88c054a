"""Overlapping speech on the site (both databases, the real Whoosh index): the list of unreviewed overlaps, a
curator adding the line heard under another voice (CSRF, audit, revision), found by search, in the JSON export
beside the line it overlaps, excerpted, reverted; bad input answered with the field, nothing stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from archive.db.models import AuditEvent, Overlap, Revision, Segment, Speaker
from archive.excerpts.manage import create_excerpt, excerpt_document
from archive.search.index import index_meeting
from tests.factories.accounts import csrf_token, sign_in
from tests.factories.meetings import Line, add_meeting, timed

SLUG = "2024-02-07-hot-mic"
REMARK = "You're fucking here illegally and you're worried about being safe?"


@pytest.fixture
def site(settings, sessions, app_for):  # type: ignore[no-untyped-def]
    add_meeting(
        sessions,
        SLUG,
        [
            Line("Now I am afraid every time I drive.", 28.9, 35.6, "SPEAKER_00", label_only=True),
            Line("Please pass this policy.", 39.2, 40.4, "SPEAKER_00", label_only=True),
        ],
    )
    with sessions() as session, session.begin():
        for segment in session.scalars(select(Segment)):
            segment.words = timed(segment.text, segment.start)
        meeting_id = segment.meeting_id
        session.add(Speaker(meeting_id=meeting_id, label="SPEAKER_01", turns=[[29.7, 32.8]]))
        session.add(Overlap(meeting_id=meeting_id, start=29.7, end=32.8, voices=["SPEAKER_00", "SPEAKER_01"]))
    app = app_for(settings)
    with sessions() as session:
        index_meeting(app.extensions["search"], session, SLUG)
    return app


@pytest.fixture
def curator(site, sessions):  # type: ignore[no-untyped-def]
    client = site.test_client()
    sign_in(client, sessions, "curator")
    return client


def add_line(client, **fields):  # type: ignore[no-untyped-def]
    data = {"text": REMARK, "start": "29.7", "end": "0:32.8", "kind": "remark", "tags": "hot-mic", **fields}
    data.setdefault("csrf_token", csrf_token(client, "/admin/overlaps"))
    return client.post(f"/admin/meetings/{SLUG}/lines", data=data)


def test_a_curator_adds_the_remark_heard_over_testimony(curator, sessions) -> None:  # type: ignore[no-untyped-def]
    listed = curator.get("/admin/overlaps").get_data(as_text=True)
    assert "2 voices at 0:00:29–0:00:32" in listed and "listen" in listed and "Add an overlapping line" in listed
    page = curator.get(f"/meetings/{SLUG}").get_data(as_text=True)
    assert "two voices at 0:00:29–0:00:32" in page  # on the meeting page, for curators
    with sessions() as session:
        overlap = session.scalars(select(Overlap)).one()
        deputy = session.scalars(select(Speaker).where(Speaker.label == "SPEAKER_01")).one()
    form = curator.get(f"/admin/meetings/{SLUG}/lines/new?overlap={overlap.id}").get_data(as_text=True)
    assert 'value="29.7"' in form and f'value="{deputy.id}" selected' in form

    response = add_line(curator, speaker=str(deputy.id), overlap=str(overlap.id))
    assert response.status_code == 303, response.get_data(as_text=True)
    with sessions() as session:
        line = session.scalars(select(Segment).where(Segment.source == "curator")).one()
        assert (line.start, line.end, line.speaker_id, line.kind, line.tags) == (
            29.7,
            32.8,
            deputy.id,
            "remark",
            ["hot-mic"],
        )
        assert len(line.words) == 10 and line.words[0]["start"] == 29.7 and line.words[-1]["end"] == 32.8
        revision = session.scalars(select(Revision)).one()
        assert revision.action == "add" and revision.actor == "curator@example.org"
        assert {e.action for e in session.scalars(select(AuditEvent))} >= {"segment-add", "overlap-reviewed"}
        assert session.get_one(Overlap, overlap.id).reviewed_by == "curator@example.org"
    assert response.headers["Location"].endswith(f"/meetings/{SLUG}#s{line.id}")

    # Searchable at once (the commit re-indexed the meeting), with its voice and second.
    [hit] = curator.get("/api/search", query_string={"q": "illegally"}).get_json()["results"]
    assert hit["segment_id"] == line.id and hit["start"] == 29.7 and hit["speaker"]["label"] == "SPEAKER_01"
    # In the export beside the line it was said over; the overlap listed, reviewed now.
    document = curator.get(f"/api/meetings/{SLUG}").get_json()
    lines = {s["id"]: s for s in document["segments"]}
    testimony = next(s for s in document["segments"] if s["text"].startswith("Now I am afraid"))
    assert lines[line.id]["source"] == "curator" and lines[line.id]["overlaps"] == [testimony["id"]]
    assert testimony["overlaps"] == [line.id] and testimony["source"] is None
    [listed_overlap] = document["overlaps"]
    assert (listed_overlap["start"], listed_overlap["end"], listed_overlap["voices"]) == (
        29.7,
        32.8,
        ["SPEAKER_00", "SPEAKER_01"],
    )
    assert listed_overlap["reviewed"] is True
    page = curator.get(f"/meetings/{SLUG}").get_data(as_text=True)
    assert "transcribed by a curator from the recording" in page
    assert f'href="#s{testimony["id"]}">said at the same time as the line at 0:00:28' in page
    # Excerpted and cited like any line.
    with sessions() as session, session.begin():
        excerpt = create_excerpt(session, SLUG, 29.7, 32.8, "The remark", created_by="curator@example.org")
        document = excerpt_document(session, excerpt)
    # Both voices at once, each part with its own: the testimony it was said over, and the remark.
    assert [(p["speaker"]["label"], p["text"]) for p in document["parts"]][-1] == ("SPEAKER_01", REMARK)
    assert REMARK in document["quote"] and document["end"] == 32.8
    assert "illegally" not in curator.get("/admin/overlaps").get_data(as_text=True)
    assert "No overlaps wait to be reviewed." in curator.get("/admin/overlaps").get_data(as_text=True)


def test_an_added_line_is_reverted_like_any_correction(curator, sessions) -> None:  # type: ignore[no-untyped-def]
    assert add_line(curator, speaker="new").status_code == 303
    with sessions() as session:
        revision = session.scalars(select(Revision)).one()
        assert session.scalars(select(Speaker.label).order_by(Speaker.label)).all()[-1] == "SPEAKER_02"
    data = {"csrf_token": csrf_token(curator, "/admin/overlaps")}
    assert curator.post(f"/admin/revisions/{revision.id}/revert", data=data).status_code == 303
    assert curator.get("/api/search", query_string={"q": "illegally"}).get_json()["results"] == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # checked before any SQL: one database
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start": "33", "end": "30"}, "end: the line must lie within the meeting"),
        ({"end": "99"}, "end: the line must lie within the meeting"),
        ({"start": "soon"}, "start: &#39;soon&#39; is not a time"),
        ({"text": "  "}, "words"),
        ({"speaker": "9999"}, "speaker: 9999 is not a voice of this meeting"),
        ({"kind": "rant"}, "kind: &#39;rant&#39; is not one of"),
        ({"tags": "Hot Mic!"}, "tags:"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(curator, sessions, fields, message) -> None:  # type: ignore[no-untyped-def]
    response = add_line(curator, **fields)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with sessions() as session:
        assert session.scalars(select(Segment).where(Segment.source.is_not(None))).all() == []
        assert session.scalars(select(Revision)).all() == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_forms_need_a_curator_and_their_csrf_token(site, curator, sessions) -> None:  # type: ignore[no-untyped-def]
    visitor = site.test_client()
    assert visitor.get("/admin/overlaps").status_code in (302, 303, 401, 403)
    assert add_line(curator, csrf_token="forged").status_code == 400
    with sessions() as session:
        overlap = session.scalars(select(Overlap)).one()
    assert curator.post(f"/admin/overlaps/{overlap.id}/reviewed").status_code == 400  # no token
    data = {"csrf_token": csrf_token(curator, "/admin/overlaps")}
    assert curator.post(f"/admin/overlaps/{overlap.id}/reviewed", data=data).status_code == 303
    with sessions() as session:
        assert session.get_one(Overlap, overlap.id).reviewed_at is not None
