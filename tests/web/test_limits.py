"""Limits before work, through the app: bodies refused on their declared size before a byte is read, chunked
bodies cut off at the limit, overlong addresses answered in a sentence, ids past 64 bits a 404 (issue 17)."""

from __future__ import annotations

import dataclasses
import io

import pytest

from tests.factories.accounts import csrf_token, sign_in

MiB = 1024 * 1024


class CountingStream(io.RawIOBase):
    """A request body of `size` bytes that counts what the server reads of it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def,override]
        n = min(len(buffer), self.size - self.read_bytes)
        buffer[:n] = b"a" * n
        self.read_bytes += n
        return n


@pytest.fixture
def app(settings, sessions, app_for):  # type: ignore[no-untyped-def]
    return app_for(dataclasses.replace(settings, upload_limit_mb=8, form_limit_kb=64))


def post(client, path: str, body: CountingStream, *, chunked: bool = False, **headers: str):  # type: ignore[no-untyped-def]
    """A POST whose body is `body`, declared by its Content-Length or sent chunked (as gunicorn hands it on)."""
    content_type = headers.pop("Content-Type", "application/x-www-form-urlencoded")
    overrides: dict[str, object] = {"wsgi.input": body, "CONTENT_TYPE": content_type}
    if chunked:
        overrides.update({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    else:
        overrides["CONTENT_LENGTH"] = str(body.size)
    return client.post(path, headers=headers, environ_overrides=overrides)


SQLITE = pytest.mark.parametrize("database_url", [""])  # the limits are the app's, not the database's


@SQLITE
@pytest.mark.parametrize("path", ["/login", "/admin/upload", "/campaigns/any/letters", "/api/excerpts"])
def test_a_big_body_is_refused_before_a_byte_of_it_is_read(client, path: str) -> None:  # type: ignore[no-untyped-def]
    body = CountingStream(50 * MiB)
    response = post(client, path, body)
    assert response.status_code == 413
    assert body.read_bytes == 0
    text = response.get_data(as_text=True)
    assert "larger than this site accepts (64 KiB): nothing was stored" in text


@SQLITE
def test_a_chunked_body_is_cut_off_just_past_the_limit(client) -> None:  # type: ignore[no-untyped-def]
    body = CountingStream(50 * MiB)
    response = post(client, "/login", body, chunked=True)
    assert response.status_code == 413
    assert body.read_bytes <= 64 * 1024 + 65536  # the limit and at most one more piece
    small = CountingStream(1000)  # a chunked form under the limit is read whole: the CSRF check then answers
    assert post(client, "/login", small, chunked=True).status_code == 400
    assert small.read_bytes == 1000


@SQLITE
def test_only_a_signed_in_curator_may_send_a_large_upload(app, sessions) -> None:  # type: ignore[no-untyped-def]
    visitor, curator, reader = app.test_client(), app.test_client(), app.test_client()
    sign_in(curator, sessions, "curator")
    sign_in(reader, sessions, "organizer", email="organizer@example.org")
    # Over the form limit, under the upload limit, and under the 500 KB past which Werkzeug's test client spools
    # the file to a temporary file it never closes.
    size = 300 * 1024
    for client, status in ((visitor, 413), (reader, 413)):
        body = CountingStream(size)
        assert (
            post(client, "/admin/upload", body, **{"Content-Type": "multipart/form-data; boundary=x"}).status_code
            == status
        )
        assert body.read_bytes == 0
    token = csrf_token(curator, "/admin/upload")
    recording = (io.BytesIO(b"\0" * size), "meeting.flac")
    response = curator.post("/admin/upload", data={"csrf_token": token, "recording": recording})
    assert response.status_code == 400  # read and answered by the form (its fields are missing), not refused
    assert "The form is missing its key" in response.get_data(as_text=True)
    too_big = CountingStream(9 * MiB)
    assert (
        post(curator, "/admin/upload", too_big, **{"Content-Type": "multipart/form-data; boundary=x"}).status_code
        == 413
    )
    assert too_big.read_bytes == 0


@SQLITE
def test_an_overlong_address_is_answered_in_a_sentence(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/search?q=" + "a" * 100_000)
    assert response.status_code == 414
    text = response.get_data(as_text=True)
    assert "That address is too long" in text and "first 500 characters" in text
    assert len(response.data) < 5_000  # the query is not echoed
    api = client.get("/api/search?q=" + "a" * 100_000)
    assert api.status_code == 414 and "too long" in api.get_json()["error"]
    assert client.get("/search?q=" + "a" * 7000).status_code == 200  # a long search still fits


# Both databases: SQLite overflowed in its driver, PostgreSQL in its BIGINT.
def test_ids_past_64_bits_are_not_found(client, app, sessions) -> None:  # type: ignore[no-untyped-def]
    huge = "99999999999999999999"
    for path in (f"/meetings/any/recordings/{huge}.ogg", f"/speakers/{huge}", f"/api/speakers/{huge}"):
        assert client.get(path).status_code == 404, path
    admin = app.test_client()
    sign_in(admin, sessions, "admin")
    token = csrf_token(admin, "/admin/users")
    for path in (f"/admin/jobs/{huge}", f"/admin/jobs/{huge}.json", f"/admin/segments/{huge}/edit"):
        assert admin.get(path).status_code == 404, path
    for path in (f"/admin/users/{huge}/disable", f"/admin/people/{huge}/delete", f"/admin/revisions/{huge}/revert"):
        assert admin.post(path, data={"csrf_token": token}).status_code == 404, path


@SQLITE
@pytest.mark.parametrize("path", ["/login", "/admin/upload", "/api/meetings", "/campaigns/any/letters"])
def test_a_form_part_without_a_name_is_a_400_not_a_crash(client, path: str) -> None:  # type: ignore[no-untyped-def]
    # Found by schemathesis: Flask-WTF's CSRF check reads every field's name as a string.
    body = b"--XX\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--XX--\r\n"
    response = client.post(path, data=body, content_type="multipart/form-data; boundary=XX")
    assert response.status_code == 400
    assert "Each part of a form needs a name" in response.get_data(as_text=True)
    assert client.post("/search", data=body, content_type="multipart/form-data; boundary=XX").status_code == 405
