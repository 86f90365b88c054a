"""Curators edit a body's vocabulary in the admin (CSRF, audit, escaping), and the transcript's details show
exactly what guided each run and what the guard did (both databases)."""

from __future__ import annotations

from sqlalchemy import select

from archive.db.models import AuditEvent, TranscriptionRun
from tests.factories.accounts import csrf_token, sign_in
from tests.factories.meetings import Line, add_meeting

BODY = "Addison County Public Safety Advisory Board"
SLUG = "addison-county-public-safety-advisory-board"
PAGE = f"/admin/bodies/{SLUG}/vocabulary"


def test_a_curator_edits_the_vocabulary_with_csrf_and_an_audit_event(app, sessions) -> None:  # type: ignore[no-untyped-def]
    add_meeting(sessions, "2024-02-07-board", [Line("Welcome.", 0.0, 1.0, "Denise Bouchard", "Chair")], body=BODY)
    client = app.test_client()
    assert client.get(PAGE).status_code in (302, 303)  # signed out: to the login page
    sign_in(client, sessions, "curator")
    assert BODY in client.get("/admin/vocabulary").get_data(as_text=True)
    assert "transcribed unguided" in client.get(PAGE).get_data(as_text=True)

    terms = "Vergennes | a city <script>alert(1)</script>\nMigrant Justice"
    assert client.post(PAGE, data={"terms": terms}).status_code == 400  # no CSRF token
    response = client.post(PAGE, data={"terms": terms, "csrf_token": csrf_token(client, PAGE)})
    assert response.status_code == 303
    html = client.get(PAGE).get_data(as_text=True)
    assert "&lt;script&gt;" in html and "<script>alert" not in html
    assert "<code>Vergennes, Migrant Justice, Denise Bouchard, Chair.</code>" in html
    with sessions() as session:
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "vocabulary-edit")).all()
        assert event.actor == "curator@example.org" and event.target == SLUG
        assert event.detail["added"] == ["Migrant Justice", "Vergennes"]

    refused = client.post(PAGE, data={"terms": "Vergennes\nVERGENNES", "csrf_token": csrf_token(client, PAGE)})
    assert refused.status_code == 400 and "already in the list" in refused.get_data(as_text=True)
    assert "Migrant Justice" in client.get(PAGE).get_data(as_text=True)  # nothing lost


def test_the_transcript_details_show_the_prompt_and_the_guard(app, sessions) -> None:  # type: ignore[no-untyped-def]
    add_meeting(sessions, "2024-02-07-board", [Line("Welcome.", 0.0, 40.0, "Denise Bouchard", "Chair")], body=BODY)
    with sessions() as session, session.begin():
        run = session.scalars(select(TranscriptionRun)).one()
        run.parameters = {
            "beam_size": 5,
            "guidance": {
                "mode": "prompt",
                "terms": ["Addison County", "Border Patrol"],
                "text": "Addison County, Border Patrol.",
                "windows": [{"start": 0.0, "prompts": {"en": "Addison County, Border Patrol."}, "hotwords": ""}],
            },
            "checks": [
                {
                    "start": 0.8,
                    "end": 29.1,
                    "speech_seconds": 28.3,
                    "guided_seconds": 8.0,
                    "unguided_seconds": 28.3,
                    "kept": "unguided",
                    "note": "guard: 0.8–29.1 re-transcribed without the glossary",
                }
            ],
        }
    client = app.test_client()
    sign_in(client, sessions, "curator")
    html = client.get("/admin/meetings/2024-02-07-board/edit").get_data(as_text=True)
    assert "whisper tiny.en, guided by 2 terms (prompt)" in html
    assert "prompt (en) <code>Addison County, Border Patrol.</code>" in html
    assert "guard: 0.8–29.1 re-transcribed without the glossary" in html
