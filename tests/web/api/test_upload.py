"""POST /api/meetings: a recording uploaded through the API is checked, stored and queued exactly as the upload
form's (archive.web.upload_input), under the same rules: a curator's session, the CSRF token, the size limit."""

from __future__ import annotations

import dataclasses
import io

import pytest
from sqlalchemy import func, select

from archive.db.models import AuditEvent, Job
from tests.factories.accounts import csrf_token, sign_in
from tests.factories.media import encode, speech

FIELDS = {"body": "Vermont Criminal Justice Council", "title": "Audiencia pública", "date": "2024-03-06"}


@pytest.fixture
def app(settings, sessions, app_for):  # type: ignore[no-untyped-def]
    return app_for(dataclasses.replace(settings, upload_limit_mb=2))


@pytest.fixture
def curator(app, sessions):  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, sessions, "curator")
    return client


@pytest.fixture(scope="module")
def jfk(tmp_path_factory) -> bytes:  # type: ignore[no-untyped-def]
    return encode(speech("jfk.flac"), tmp_path_factory.mktemp("upload") / "jfk.flac", "flac", "flac").read_bytes()


def post(client, data: dict, **headers: str):  # type: ignore[no-untyped-def]
    """POST /api/meetings with the session's CSRF token, as a script that read it from a signed-in page does."""
    token = csrf_token(client, "/admin/upload" if headers.pop("signed_in", "yes") == "yes" else "/login")
    return client.post("/api/meetings", data=data, headers={"X-CSRFToken": token, **headers})


def stored(settings) -> list:  # type: ignore[no-untyped-def]
    folder = settings.home / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def jobs(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(func.count(Job.id))) or 0


def test_a_curator_uploads_spanish_testimony_with_its_languages(curator, sessions, settings, jfk) -> None:  # type: ignore[no-untyped-def]
    data = {**FIELDS, "languages": "en,es", "recording": (io.BytesIO(jfk), "audiencia.flac")}
    response = post(curator, data)
    assert response.status_code == 202, response.get_json()
    answer = response.get_json()
    assert (answer["status"], answer["percent"], answer["meeting"]) == ("queued", 0.0, None)
    assert answer["url"] == f"/admin/jobs/{answer['id']}.json"
    assert response.headers["Location"].endswith(answer["url"])
    with sessions() as session:
        job = session.get_one(Job, answer["id"])
        assert (job.kind, job.created_by) == ("ingest", "curator@example.org")
        assert job.parameters["languages"] == ["en", "es"] and not job.parameters["model"].endswith(".en")
        assert (job.parameters["title"], job.parameters["date"]) == ("Audiencia pública", "2024-03-06")
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "upload")).one()
        assert event.detail["file"] == "audiencia.flac"
    [path] = stored(settings)
    assert path.read_bytes() == jfk
    # The job's progress, at the address it gave, for the same session.
    assert curator.get(answer["url"]).get_json()["status"] == "queued"


def test_the_same_idempotency_key_queues_one_job(curator, sessions, settings, jfk) -> None:  # type: ignore[no-untyped-def]
    key = {"Idempotency-Key": "audiencia-2024-03-06-a"}
    first = post(curator, {**FIELDS, "recording": (io.BytesIO(jfk), "a.flac")}, **key)
    again = post(curator, {**FIELDS, "recording": (io.BytesIO(jfk), "a.flac")}, **key)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.get_json()["id"] == again.get_json()["id"] and jobs(sessions) == 1 and len(stored(settings)) == 1
    bad = post(curator, {**FIELDS, "recording": (io.BytesIO(jfk), "a.flac")}, **{"Idempotency-Key": "short"})
    assert bad.status_code == 400 and "Idempotency-Key" in bad.get_json()["error"]


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"title": ""}, "Give a title."),
        ({"date": "6 March"}, "is not a date in the form YYYY-MM-DD"),
        ({"languages": "en,xx"}, "xx"),
        ({"languages": "es", "model": "tiny.en"}, "English-only"),
        ({"layout": "tracks"}, "Simultaneous tracks: choose from 2"),
        ({"recording": (io.BytesIO(b""), "empty.flac")}, "empty.flac is empty"),
        ({"recording": None}, "Choose the recording"),
        ({"language": "es"}, "language: not a field of this upload"),  # mistyped: not dropped without a word
    ],
)
def test_bad_fields_are_named_in_json_and_nothing_is_stored(curator, sessions, settings, jfk, values, words) -> None:  # type: ignore[no-untyped-def]
    data = {**FIELDS, "recording": (io.BytesIO(jfk), "a.flac"), **values}
    response = post(curator, {name: value for name, value in data.items() if value is not None})
    assert response.status_code == 400 and response.mimetype == "application/json"
    assert words in response.get_json()["error"]
    assert stored(settings) == [] and jobs(sessions) == 0


def test_the_upload_forms_rules_hold(app, curator, sessions, settings, jfk) -> None:  # type: ignore[no-untyped-def]
    data = {**FIELDS, "recording": (io.BytesIO(jfk), "a.flac")}
    # Without the CSRF token, a signed-in curator's browser cannot be made to upload by another site.
    forged = curator.post("/api/meetings", data=data)
    assert forged.status_code == 400 and "csrf token" in forged.get_json()["error"].lower()
    # Nobody signed in: 401; an organizer: 403 (the form is a curator's).
    visitor = app.test_client()
    anonymous = post(visitor, {**FIELDS, "recording": (io.BytesIO(jfk), "a.flac")}, signed_in="no")
    assert anonymous.status_code == 401 and anonymous.get_json() == {"error": "sign in to use this"}
    organizer = app.test_client()
    sign_in(organizer, sessions, "organizer")
    refused = post(organizer, {**FIELDS, "recording": (io.BytesIO(jfk), "a.flac")}, signed_in="no")
    assert refused.status_code == 403 and "may not use this" in refused.get_json()["error"]
    # Over the upload limit (2 MiB here): refused on its Content-Length, before it is read.
    body = b"--x\r\n" + b"\0" * (3 * 1024 * 1024)
    token = csrf_token(curator, "/admin/upload")
    big = curator.post(
        "/api/meetings", data=body, content_type="multipart/form-data; boundary=x", headers={"X-CSRFToken": token}
    )
    assert big.status_code == 413 and "larger than this site accepts (2 MiB)" in big.get_json()["error"]
    assert stored(settings) == [] and jobs(sessions) == 0
