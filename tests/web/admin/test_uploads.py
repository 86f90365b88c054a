"""Uploads on the site: a curator's recording is stored, queued and transcribed by the worker (both databases)."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest
from sqlalchemy import func, select

from archive.db.models import AuditEvent, Job, Meeting, Segment
from archive.worker.jobs import work
from tests.factories.accounts import sign_in
from tests.factories.media import encode, speech


@pytest.fixture
def app(settings, sessions, app_for):  # type: ignore[no-untyped-def]
    return app_for(dataclasses.replace(settings, upload_limit_mb=2))


@pytest.fixture
def curator(app, sessions):  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, sessions, "curator")
    return client


def form(client, **values) -> dict:  # type: ignore[no-untyped-def]
    html = client.get("/admin/upload").get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="(csrf_token|key)" value="([^"]+)"', html))
    assert set(fields) == {"csrf_token", "key"}
    data = {
        "body": "Vermont Criminal Justice Council",
        "title": "Regular meeting",
        "date": "2024-02-07",
        "source_url": "https://example.org/video",
        "agenda_url": "",
        "engine": "whisper",
        "model": "tiny.en",
        **fields,
    }
    data.update(values)
    return data


@pytest.fixture(scope="module")
def jfk(tmp_path_factory) -> bytes:  # type: ignore[no-untyped-def]
    """The JFK sentence as 16 kHz mono FLAC (~200 KB): under the test client's 500 KB spooling threshold,
    whose temporary file Werkzeug's test client never closes."""
    return encode(speech("jfk.flac"), tmp_path_factory.mktemp("upload") / "jfk.flac", "flac", "flac").read_bytes()


def recording(data: bytes, name: str = "jfk.flac") -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def uploads(settings) -> list:  # type: ignore[no-untyped-def]
    folder = settings.home / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_an_upload_is_stored_queued_and_audited(curator, sessions, settings, jfk) -> None:  # type: ignore[no-untyped-def]
    response = curator.post("/admin/upload", data={**form(curator), "recording": recording(jfk)})
    assert response.status_code == 303
    job_url = response.headers["Location"]
    assert re.fullmatch(r"/admin/jobs/\d+", job_url)
    with sessions() as session:
        job = session.scalars(select(Job)).one()
        assert (job.kind, job.status, job.created_by) == ("ingest", "queued", "curator@example.org")
        assert (
            job.parameters["title"] == "Regular meeting" and job.parameters["source_url"] == "https://example.org/video"
        )
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "upload")).one()
        assert event.actor == "curator@example.org" and event.detail["file"] == "jfk.flac"
    stored = uploads(settings)
    assert len(stored) == 1 and stored[0].read_bytes() == jfk
    page = curator.get(job_url).get_data(as_text=True)
    assert "queued" in page and 'id="job-progress"' in page
    state = curator.get(job_url + ".json").get_json()
    assert state["status"] == "queued" and state["percent"] == 0.0


def test_a_double_submitted_upload_stores_one_recording(curator, sessions, settings, jfk) -> None:  # type: ignore[no-untyped-def]
    data = form(curator)
    first = curator.post("/admin/upload", data={**data, "recording": recording(jfk)})
    second = curator.post("/admin/upload", data={**data, "recording": recording(jfk)})
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    with sessions() as session:
        assert session.scalar(select(func.count(Job.id))) == 1
    assert len(uploads(settings)) == 1


def test_a_file_over_the_limit_is_refused_before_anything_is_stored(curator, sessions, settings) -> None:  # type: ignore[no-untyped-def]
    form(curator)  # the form was shown; the browser then sends a body bigger than the limit
    body = b"--x\r\n" + b"\0" * (3 * 1024 * 1024)  # refused on its Content-Length, before it is read
    response = curator.post("/admin/upload", data=body, content_type="multipart/form-data; boundary=x")
    assert response.status_code == 413
    assert "larger than this site accepts (2 MiB): nothing was stored" in response.get_data(as_text=True)
    assert uploads(settings) == []
    with sessions() as session:
        assert session.scalar(select(func.count(Job.id))) == 0


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"title": ""}, "Give a title."),
        ({"date": "7 Feb"}, "is not a date in the form YYYY-MM-DD"),
        ({"source_url": "javascript:alert(1)"}, "must be an http:// or https:// address"),
        ({"engine": "vosk"}, "The engine must be one of"),
        ({"model": "../../etc/passwd"}, "The model is a name"),
        ({"key": "short"}, "missing its key"),
    ],
)
def test_bad_fields_are_named_and_nothing_is_stored(curator, sessions, settings, values, words, jfk) -> None:  # type: ignore[no-untyped-def]
    response = curator.post("/admin/upload", data={**form(curator, **values), "recording": recording(jfk)})
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert uploads(settings) == []


def test_an_upload_without_a_file_or_with_an_empty_one_is_refused(curator, settings) -> None:  # type: ignore[no-untyped-def]
    assert "Choose the recording" in curator.post("/admin/upload", data=form(curator)).get_data(as_text=True)
    empty = curator.post("/admin/upload", data={**form(curator), "recording": (io.BytesIO(b""), "x.wav")})
    assert empty.status_code == 400 and "x.wav is empty" in empty.get_data(as_text=True)
    assert uploads(settings) == []


def test_organizers_cannot_upload(app, sessions) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, sessions, "organizer")
    assert client.get("/admin/upload").status_code == 403
    assert client.get("/admin/jobs").status_code == 403


def test_may_upload_tells_nginx_who_may_send_a_recording(app, sessions, curator) -> None:  # type: ignore[no-untyped-def]
    """deploy/nginx.conf asks before it reads an upload's body (tests/web/test_server.py runs it for real)."""
    organizer = app.test_client()
    sign_in(organizer, sessions, "organizer")
    anonymous = app.test_client()
    asks = {"X-Original-Method": "POST"}
    assert curator.get("/may-upload", headers=asks).status_code == 204
    assert organizer.get("/may-upload", headers=asks).status_code == 403
    assert anonymous.get("/may-upload", headers=asks).status_code == 403
    # Only a POST sends a recording: the form's page and GET /api/meetings are the app's to answer.
    assert anonymous.get("/may-upload", headers={"X-Original-Method": "GET"}).status_code == 204


@pytest.mark.slow
def test_the_worker_stores_and_transcribes_an_upload(curator, sessions, settings, jfk) -> None:  # type: ignore[no-untyped-def]
    from archive.transcribe import make_transcriber

    response = curator.post("/admin/upload", data={**form(curator), "recording": recording(jfk)})
    job_url = response.headers["Location"]
    ran = work(settings, sessions, once=True, load_transcriber=make_transcriber)
    assert ran == 1
    with sessions() as session:
        job = session.scalars(select(Job)).one()
        assert job.status == "done", job.error
        meeting = session.get_one(Meeting, job.meeting_id)
        assert meeting.source_url == "https://example.org/video" and meeting.title == "Regular meeting"
        text = " ".join(session.scalars(select(Segment.text).where(Segment.meeting_id == meeting.id))).lower()
    assert "ask not what your country can do for you" in text
    assert uploads(settings) == []  # the recording now lives in the media store
    state = curator.get(job_url + ".json").get_json()
    assert state["status"] == "done" and state["percent"] == 100.0
    assert state["meeting_url"] == f"/meetings/{meeting.slug}"


@pytest.mark.slow
def test_an_undecodable_upload_fails_in_words(curator, sessions, settings) -> None:  # type: ignore[no-untyped-def]
    from archive.transcribe import make_transcriber

    junk = io.BytesIO(b"this is not a recording at all" * 100)
    response = curator.post("/admin/upload", data={**form(curator), "recording": (junk, "minutes.mp3")})
    work(settings, sessions, once=True, load_transcriber=make_transcriber)
    with sessions() as session:
        job = session.scalars(select(Job)).one()
        assert job.status == "failed"
        assert "could not" in job.error.lower() or "not a" in job.error.lower(), job.error
    page = curator.get(response.headers["Location"]).get_data(as_text=True)
    assert job.error.split(":")[0] in page


@pytest.mark.parametrize("database_url", [""])  # files and the worker's policy, not the database
def test_an_upload_over_the_duration_limit_fails_and_its_file_goes(curator, sessions, settings, runner) -> None:  # type: ignore[no-untyped-def]
    """The policy for failed jobs' files: a recording refused for what it is (too long, not a recording) is
    deleted when its job fails; after any other failure it stays for `testimony jobs retry`, and check lists it."""
    from archive.cli.main import main
    from tests.factories.media import FIXTURES

    long = (FIXTURES / "long" / "silence-2h10m.flac").read_bytes()
    response = curator.post("/admin/upload", data={**form(curator), "recording": recording(long, "long.flac")})
    assert response.status_code == 303 and len(uploads(settings)) == 1
    work(dataclasses.replace(settings, max_duration=7200), sessions, once=True, load_transcriber=lambda _: None)
    with sessions() as session:
        job = session.scalars(select(Job)).one()
    assert job.status == "failed"
    assert job.error.endswith(
        "the recording is 2 h 10 min long; this archive takes at most 2 h (TESTIMONY_MAX_DURATION)"
        " (the uploaded file was deleted: nothing was stored)"
    )
    assert uploads(settings) == [] and list((settings.home / "media").rglob("*")) == []
    # A file some failure left behind, and one no job knows: `testimony check` lists both.
    with sessions() as session, session.begin():
        session.get_one(Job, job.id).parameters = {**job.parameters, "upload": "kept.flac"}
    (settings.home / "uploads" / "kept.flac").write_bytes(b"x")
    (settings.home / "uploads" / "stray.flac").write_bytes(b"x")
    checked = runner.invoke(main, ["check"])
    assert checked.exit_code == 1
    assert f"is kept for failed job {job.id}: `testimony jobs retry {job.id}`, or delete it" in checked.output
    assert "orphaned upload" in checked.output and "stray.flac" in checked.output


@pytest.mark.parametrize("database_url", [""])
def test_an_upload_that_fills_the_disk_leaves_no_partial_file(curator, settings) -> None:  # type: ignore[no-untyped-def]
    """Issue 17: a disk-full upload left a partial file. The disk is made full for real: the process may not
    write a file past 100 KiB (RLIMIT_FSIZE: the kernel refuses the write with EFBIG, as ENOSPC would)."""
    import resource
    import signal

    data = form(curator)
    body = b"\0" * (300 * 1024)  # under the test client's 500 KB spooling threshold: held in memory
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_signal = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
    resource.setrlimit(resource.RLIMIT_FSIZE, (100 * 1024, old_limit[1]))
    try:
        response = curator.post("/admin/upload", data={**data, "recording": recording(body, "big.flac")})
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_signal)
    assert response.status_code == 507
    assert "big.flac could not be saved (the server&#39;s disk may be full): nothing was stored." in response.get_data(
        as_text=True
    )
    assert uploads(settings) == []


def test_simultaneous_tracks_are_queued_with_their_names(curator, sessions, settings, jfk) -> None:  # type: ignore[no-untyped-def]
    files = [recording(jfk, "chair.flac"), recording(jfk, "deputy.flac")]
    response = curator.post("/admin/upload", data={**form(curator, layout="tracks"), "recording": files})
    assert response.status_code == 303, response.get_data(as_text=True)
    with sessions() as session:
        job = session.scalars(select(Job)).one()
    assert [t["name"] for t in job.parameters["tracks"]] == ["chair.flac", "deputy.flac"]
    assert job.parameters["upload"] == job.parameters["tracks"][0]["upload"] and len(uploads(settings)) == 2


@pytest.mark.parametrize(
    ("layout", "names", "words"),
    [
        ("tracks", ["a.flac"], "Simultaneous tracks: choose from 2 to 32 files"),
        ("tracks", ["a.flac", "a.flac"], "Two tracks have the same file name"),
        ("one", ["a.flac", "b.flac"], "Choose one recording, or say the files are simultaneous tracks."),
        ("channels", ["a.flac", "b.flac"], "Choose one recording"),
        ("mixed", ["a.flac"], "The recordings are one of: one, tracks, channels."),
    ],
)
def test_files_that_do_not_fit_the_layout_are_refused(curator, settings, jfk, layout, names, words) -> None:  # type: ignore[no-untyped-def]
    files = [recording(jfk, name) for name in names]
    response = curator.post("/admin/upload", data={**form(curator, layout=layout), "recording": files})
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    assert uploads(settings) == []


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_worker_splits_an_uploaded_files_channels_into_tracks(curator, sessions, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from archive.db.models import Recording
    from archive.transcribe import make_transcriber
    from archive.worker.jobs import progress_of
    from tests.fixtures.synth.mix import write_wav

    # 7.5 s, the speaker's microphone and a silent one: under the test client's spooling threshold (see jfk).
    voice = speech("jfk.flac")[: 16_000 * 15 // 2]
    write_wav(tmp_path / "mixer.wav", [voice, voice * 0.0])
    data = {**form(curator, layout="channels", engine="faster-whisper")}
    data["recording"] = recording((tmp_path / "mixer.wav").read_bytes(), "mixer.wav")
    assert curator.post("/admin/upload", data=data).status_code == 303
    assert work(settings, sessions, once=True, load_transcriber=make_transcriber) == 1
    with sessions() as session:
        job = session.scalars(select(Job)).one()
        assert job.status == "done", job.error
        assert progress_of(job)["percent"] == 100.0  # both tracks' audio counted, neither twice
        tracks = session.scalars(select(Recording.track).where(~Recording.mix).order_by(Recording.position)).all()
        mixes = session.scalars(select(Recording.original_name).where(Recording.mix)).all()
        text = " ".join(session.scalars(select(Segment.text))).lower()
    assert tracks == ["mixer.wav channel 1", "mixer.wav channel 2"]
    assert len(mixes) == 1 and mixes[0].endswith(" mix.wav")  # the one recording the public plays (ingest.mix)
    assert "my fellow americans" in text and uploads(settings) == []
