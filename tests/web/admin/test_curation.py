"""Correcting transcripts on the site (both databases, the real Whoosh index): the inline form's JSON, the form
without JavaScript, agenda items, history and revert, and search following a correction at once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from archive.db.models import AuditEvent, Revision, Segment
from archive.search.index import index_meeting
from tests.factories.accounts import csrf_token, sign_in
from tests.factories.databases import fresh_postgres_schema
from tests.factories.meetings import Line, add_meeting

SLUG = "2024-02-07-public-comment"
JSON = {"Accept": "application/json"}


def timed(text: str, start: float, probabilities: list[float] | None = None) -> list[dict]:  # type: ignore[type-arg]
    words = text.split()
    chances = probabilities or [0.9] * len(words)
    return [
        {"word": w, "start": start + i * 0.5, "end": start + i * 0.5 + 0.4, "probability": p}
        for i, (w, p) in enumerate(zip(words, chances, strict=True))
    ]


def build(settings, sessions, app_for):  # type: ignore[no-untyped-def]
    """A meeting of four lines (the last with a word the machine was unsure of), indexed; the app; segment ids."""
    add_meeting(
        sessions,
        SLUG,
        [
            Line("We now open public comment.", 10.0, 12.5, "Chair Anne", "chair", "procedural"),
            Line("I want to feel safe driving.", 20.0, 23.0, "Rosa", "public commenter", "testimony"),
            Line("My children are scared.", 23.0, 25.0, "Rosa", "public commenter", "testimony"),
            Line("Your fucking here illegally", 3721.4, 3723.4, "Deputy Dan", "member", "remark", ["hot-mic"]),
        ],
    )
    with sessions() as session, session.begin():
        segments = session.scalars(select(Segment).order_by(Segment.start)).all()
        for segment in segments:
            unsure = [0.9, 0.3, 0.9, 0.9] if segment.start > 3000 else None
            segment.words = timed(segment.text, segment.start, unsure)
        ids = [segment.id for segment in segments]
    app = app_for(settings)
    with sessions() as session:
        index_meeting(app.extensions["search"], session, SLUG)
    return app, ids


@pytest.fixture
def site(settings, sessions, app_for):  # type: ignore[no-untyped-def]
    return build(settings, sessions, app_for)


@pytest.fixture
def curator(site, sessions):  # type: ignore[no-untyped-def]
    client = site[0].test_client()
    sign_in(client, sessions, "curator")
    return client


def post(client, path: str, json: bool = True, **data):  # type: ignore[no-untyped-def]
    data.setdefault("csrf_token", csrf_token(client, "/admin"))
    return client.post(path, data=data, headers=JSON if json else {})


def hits(client, query: str) -> list[int]:  # type: ignore[no-untyped-def]
    return [r["segment_id"] for r in client.get("/api/search", query_string={"q": query}).get_json()["results"]]


def test_the_form_data_comes_from_admin_json_with_the_meetings_voices(site, curator) -> None:  # type: ignore[no-untyped-def]
    _, (chair, rosa, rosa_again, dan) = site
    data = curator.get(f"/admin/segments/{rosa}.json").get_json()
    assert data["segment"]["text"] == "I want to feel safe driving." and len(data["segment"]["words"]) == 6
    assert data["next_id"] == rosa_again and data["meeting"] == SLUG
    assert {s["name"] for s in data["speakers"]} == {
        "Chair Anne (SPEAKER_00)",
        "Rosa (SPEAKER_01)",
        "Deputy Dan (SPEAKER_02)",
    }
    assert data["kinds"] == ["testimony", "deliberation", "remark", "procedural"]


def test_an_inline_edit_answers_json_and_search_follows_at_once(site, curator, sessions) -> None:  # type: ignore[no-untyped-def]
    _, (chair, rosa, rosa_again, dan) = site
    assert hits(curator, "fucking") == [dan]
    response = post(
        curator,
        f"/admin/segments/{dan}",
        text="You're f---ing here illegally",
        kind="remark",
        tags="hot-mic",
        speaker=str(curator.get(f"/admin/segments/{dan}.json").get_json()["segment"]["speaker_id"]),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["segment"]["text"] == "You're f---ing here illegally" and answer["reload"] is False
    assert answer["url"] == f"/meetings/{SLUG}#s{dan}"
    # Right after the POST: the new word is found, the old one is not.
    assert hits(curator, "you're") == [dan]
    assert hits(curator, "fucking") == []
    with sessions() as session:
        assert session.scalars(select(Revision.action)).all() == ["text"]  # only what changed
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "segment-edit")).one()
        assert event.actor == "curator@example.org"


def test_without_javascript_the_form_posts_and_goes_back_to_the_line(site, curator, sessions) -> None:  # type: ignore[no-untyped-def]
    _, (chair, rosa, rosa_again, dan) = site
    page = curator.get(f"/admin/segments/{chair}/edit").get_data(as_text=True)
    assert 'name="text"' in page and "We now open public comment." in page and 'value="split"' in page
    response = post(
        curator,
        f"/admin/segments/{chair}",
        json=False,
        text="We now open the public comment.",
        kind="procedural",
        tags="",
        action="save",
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/meetings/{SLUG}#s{chair}"
    assert hits(curator, "the public comment") == [chair]


def test_split_and_merge_from_the_form_ask_the_page_to_reload(site, curator, sessions) -> None:  # type: ignore[no-untyped-def]
    _, (chair, rosa, rosa_again, dan) = site
    split = post(curator, f"/admin/segments/{rosa}", action="split", at_word="3").get_json()
    assert split["reload"] is True and split["segment"]["text"] == "I want to"
    merged = post(curator, f"/admin/segments/{rosa}", action="merge").get_json()
    assert merged["segment"]["text"] == "I want to feel safe driving."
    # Rosa's next line is hers too: joined without a question.
    again = post(curator, f"/admin/segments/{rosa}", action="merge").get_json()
    assert again["segment"]["text"] == "I want to feel safe driving. My children are scared."
    # Now the next line is Deputy Dan's: refused unless the form says whose the joined line is.
    refused = post(curator, f"/admin/segments/{rosa}", action="merge")
    assert refused.status_code == 400 and "speaker: segments" in refused.get_json()["error"]
    with sessions() as session:
        assert [r.action for r in session.scalars(select(Revision).order_by(Revision.id))] == [
            "split",
            "merge",
            "merge",
        ]
    dan_voice = curator.get(f"/admin/segments/{dan}.json").get_json()["segment"]["speaker_id"]
    told = post(curator, f"/admin/segments/{rosa}", action="merge", merge_speaker=str(dan_voice)).get_json()
    assert told["segment"]["speaker_id"] == dan_voice and told["segment"]["text"].endswith("here illegally")
    assert post(curator, f"/admin/segments/{rosa}", action="merge").get_json()["error"] == (
        "merge: this is the meeting's last line"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "   "}, "text: give the words"),
        ({"text": "x" * 5001}, "text: 5,001 characters is longer than 5,000"),
        ({"kind": "gossip"}, "kind: 'gossip' is not one of"),
        ({"tags": "Hot Mic!"}, "tags: 'mic!' is not lower-case-kebab-case"),
        ({"speaker": "999"}, "speaker: 999 is not a voice of this meeting"),
        ({"action": "split", "at_word": "9"}, "at_word: split before a word from 1 to 5"),
        ({"action": "split", "at_word": "x"}, "at_word: choose the word"),
        ({"action": "explode"}, "action: 'explode' is not one of save, split, merge"),
        ({}, "nothing changed"),
    ],
)
def test_bad_corrections_are_refused_by_field_and_change_nothing(site, curator, sessions, data, message) -> None:  # type: ignore[no-untyped-def]
    _, (chair, rosa, rosa_again, dan) = site
    response = post(curator, f"/admin/segments/{rosa}", **data)
    assert response.status_code == 400 and message in response.get_json()["error"]
    html = post(curator, f"/admin/segments/{rosa}", json=False, **data)
    assert html.status_code == 400 and message.replace("'", "&#39;") in html.get_data(as_text=True)
    with sessions() as session:
        assert session.scalars(select(Revision)).all() == []
        assert session.get_one(Segment, rosa).text == "I want to feel safe driving."


def test_a_post_without_the_csrf_token_is_refused(site, curator) -> None:  # type: ignore[no-untyped-def]
    _, (chair, *_) = site
    response = curator.post(f"/admin/segments/{chair}", data={"text": "Hijacked."})
    assert response.status_code == 400 and "could not be accepted" in response.get_data(as_text=True)


def test_the_meeting_page_marks_corrections_shows_chapters_and_gives_curators_their_tools(
    site, curator, sessions
) -> None:  # type: ignore[no-untyped-def]
    app, (chair, rosa, rosa_again, dan) = site
    public = app.test_client()
    before = public.get(f"/meetings/{SLUG}").get_data(as_text=True)
    assert "curation-tools" not in before and "curation.js" not in before and 'class="corrected"' not in before
    # "Your" was heard with 30 % certainty; the curator's "You're" and "f---ing" have no probability at all.
    assert '<span class="unsure" title="30% sure">fucking</span>' in before
    post(curator, f"/admin/segments/{dan}", text="You're f---ing here illegally")
    post(curator, f"/admin/meetings/{SLUG}/agenda", json=False, start="0:00:20", title="Public comment <opens>")
    after = public.get(f"/meetings/{SLUG}").get_data(as_text=True)
    line = re.search(rf'<p class="segment" id="s{dan}".*?</p>', after, re.S).group(0)
    assert "You&#39;re f---ing here illegally" in line and 'class="unsure"' not in line
    assert 'title="Corrected by a curator"' in line
    assert after.count('class="corrected"') == 1
    assert f'href="/meetings/{SLUG}?t=20">0:00:20</a> Public comment &lt;opens&gt;' in after
    mine = curator.get(f"/meetings/{SLUG}").get_data(as_text=True)
    assert 'id="curation-tools"' in mine and "curation.js" in mine
    # The page itself carries no form data: the forms load each line from /admin.
    assert 'name="text"' not in mine


def test_agenda_items_are_added_edited_and_deleted_with_errors_named(site, curator, sessions) -> None:  # type: ignore[no-untyped-def]
    from archive.db.models import AgendaItem

    ok = post(curator, f"/admin/meetings/{SLUG}/agenda", json=False, start="10", title="Call to order")
    assert ok.status_code == 303 and ok.headers["Location"].endswith("#agenda")
    with sessions() as session:
        item = session.scalars(select(AgendaItem)).one().id
    bad = post(curator, f"/admin/agenda/{item}", json=False, start="soon", title="Call to order")
    assert bad.status_code == 400 and "start: &#39;soon&#39; is not a time" in bad.get_data(as_text=True)
    late = post(curator, f"/admin/meetings/{SLUG}/agenda", json=False, start="9:00:00", title="Late")
    assert late.status_code == 400 and "start: 32400 s is not within the meeting" in late.get_data(as_text=True)
    assert post(curator, f"/admin/agenda/{item}", json=False, start="0:00:12", title="Order").status_code == 303
    page = curator.get(f"/admin/meetings/{SLUG}/edit").get_data(as_text=True)
    assert 'value="0:00:12"' in page and 'value="Order"' in page
    assert post(curator, f"/admin/agenda/{item}/delete", json=False).status_code == 303
    with sessions() as session:
        assert session.scalars(select(AgendaItem)).all() == []
        assert [r.action for r in session.scalars(select(Revision))] == ["agenda", "agenda", "agenda"]


def test_history_shows_a_word_diff_and_reverts_in_order(site, curator, sessions) -> None:  # type: ignore[no-untyped-def]
    _, (chair, rosa, rosa_again, dan) = site
    post(curator, f"/admin/segments/{dan}", text="You're f---ing here illegally")
    post(curator, f"/admin/segments/{dan}", tags="hot-mic, remark-of-note")
    with sessions() as session:
        edit, tags = session.scalars(select(Revision.id).order_by(Revision.id)).all()
    page = curator.get(f"/admin/meetings/{SLUG}/history").get_data(as_text=True)
    assert "<del>Your fucking</del>" in page and "<ins>You&#39;re f---ing</ins>" in page
    assert "tags: hot-mic → hot-mic, remark-of-note" in page and page.index(f"Revision {tags}") < page.index(
        f"Revision {edit}"
    )
    refused = post(curator, f"/admin/revisions/{edit}/revert", json=False)
    assert refused.status_code == 400
    assert f"segment {dan} was changed again since (revision {tags}): revert that first" in refused.get_data(
        as_text=True
    )
    assert post(curator, f"/admin/revisions/{tags}/revert", json=False).status_code == 303
    done = post(curator, f"/admin/revisions/{edit}/revert", json=False)
    assert done.status_code == 303 and "/history?done=" in done.headers["Location"]
    assert hits(curator, "fucking") == [dan]  # the index follows a revert too


def test_the_meetings_list_is_on_the_dashboard_for_curators(site, curator, sessions) -> None:  # type: ignore[no-untyped-def]
    dashboard = curator.get("/admin").get_data(as_text=True)
    assert '<a href="/admin/meetings">Meetings</a>' in dashboard
    page = curator.get("/admin/meetings").get_data(as_text=True)
    assert f'href="/admin/meetings/{SLUG}/edit"' in page and f'href="/admin/meetings/{SLUG}/history"' in page
    organizer = site[0].test_client()
    sign_in(organizer, sessions, "organizer")
    assert organizer.get("/admin/meetings").status_code == 403
    assert organizer.get(f"/admin/segments/{site[1][0]}.json").status_code == 403


def test_search_on_the_postgres_backend_follows_a_correction_too(request, home, app_for) -> None:  # type: ignore[no-untyped-def]
    from archive.config import Settings
    from archive.home import init_home

    settings = Settings(home=home, database_url=fresh_postgres_schema(request), search_backend="postgres", threads=1)
    sessions = init_home(settings)
    try:
        app, (chair, rosa, rosa_again, dan) = build(settings, sessions, app_for)
        client = app.test_client()
        sign_in(client, sessions, "curator")
        assert hits(client, "fucking") == [dan]
        assert post(client, f"/admin/segments/{dan}", text="You're frightening here illegally").status_code == 200
        assert hits(client, "frightening") == [dan] and hits(client, "fucking") == []
    finally:
        sessions.kw["bind"].dispose()


def test_a_withheld_phrase_is_redacted_in_agenda_titles_too(site, curator, sessions) -> None:  # type: ignore[no-untyped-def]
    from archive.privacy.ledger import redact_phrase

    app, _ = site
    post(curator, f"/admin/meetings/{SLUG}/agenda", json=False, start="20", title="Rosa Quintanilla testifies")
    with sessions() as session, session.begin():
        redact_phrase(
            session, SLUG, "Quintanilla", reason="asked", requested_by="Rosa", approved_by="editor", user=None
        )
    page = app.test_client().get(f"/meetings/{SLUG}").get_data(as_text=True)
    assert "Quintanilla" not in page and "Rosa [redacted] testifies" in page
