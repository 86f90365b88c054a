"""Excerpt clips: a real recording ingested and transcribed, clips cut in every format, heard again by Whisper.

One ingest per database (module-scoped): jfk.flac, transcribed by faster-whisper, its voice named.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from archive import create_app
from archive.cli.main import main
from archive.config import Settings
from archive.db.models import Excerpt, Person
from archive.excerpts.manage import create_excerpt, excerpt_document, find_excerpt
from archive.home import open_home
from archive.media.clips import cached, clip_span, cut_clip, excerpt_clip
from archive.media.decode import SAMPLE_RATE, decode_audio
from archive.transcribe.evaluate import normalize, word_error_rate
from archive.web.public.excerpt_media import content_disposition
from tests.factories.databases import databases_for, fresh_postgres_schema
from tests.factories.media import FIXTURES, encode, speech

PUBLIC_URL = "https://testimony.example"
MEDIA_TYPES = {"m4a": "audio/mp4", "mp3": "audio/mpeg", "ogg": "audio/ogg"}


@dataclass
class Archive:
    settings: Settings
    sessions: object
    client: FlaskClient
    slug: str  # the excerpt's
    start: float
    end: float
    quote: str


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The archive on SQLite (clips are files: the dialect does not matter here), on both with --both-databases."""
    if "archive" in metafunc.fixturenames:
        metafunc.parametrize("archive", databases_for(metafunc), indirect=True, scope="module")


@pytest.fixture(scope="module")
def archive(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    home = tmp_path_factory.mktemp("home")
    url = "" if request.param == "sqlite" else fresh_postgres_schema(request)
    settings = Settings(home=home, database_url=url, threads=1, engine="faster-whisper", public_url=PUBLIC_URL)
    runner = CliRunner(env={"TESTIMONY_HOME": str(home), "TESTIMONY_DATABASE_URL": url, "TESTIMONY_THREADS": "1"})
    ingested = runner.invoke(
        main,
        [
            "ingest",
            str(FIXTURES / "jfk.flac"),
            *("--body", "Joint Session of Congress", "--title", "Inaugural address", "--date", "1961-01-20"),
            *("--source-url", "https://example.org/jfk", "--engine", "faster-whisper"),
        ],
    )
    assert ingested.exit_code == 0, ingested.output
    meeting = ingested.stdout.splitlines()[-1]
    named = runner.invoke(main, ["speakers", "name", meeting, "SPEAKER_00", "John F. Kennedy", "--role", "President"])
    assert named.exit_code == 0, named.output
    sessions = open_home(settings)
    with sessions() as session, session.begin():
        # "ask not what your country can do for you," (about 3.7 s to 8.0 s of the file)
        excerpt = create_excerpt(session, meeting, 3.8, 7.9, "Ask not", created_by="test")
        document = excerpt_document(session, excerpt)
    app = create_app(settings)
    yield Archive(settings, sessions, app.test_client(), excerpt.slug, excerpt.start, excerpt.end, document["quote"])
    app.extensions["sessions"].kw["bind"].dispose()
    sessions.kw["bind"].dispose()


def fetch(client: FlaskClient, url: str, **options: object):  # type: ignore[no-untyped-def]
    """GET a file response (streamed by send_file) and close it, keeping its bytes."""
    with client.get(url, **options) as response:  # type: ignore[arg-type]
        response.get_data()
    return response


def opened(data: bytes):  # type: ignore[no-untyped-def]
    return av.open(io.BytesIO(data))


def tags_of(container) -> dict[str, str]:  # type: ignore[no-untyped-def]
    # MP4 and MP3 keep tags on the file, Ogg on the stream.
    return {**dict(container.streams.audio[0].metadata), **dict(container.metadata)}


@pytest.mark.parametrize("fmt", ["m4a", "mp3", "ogg"])
def test_each_format_is_the_span_with_its_pads_and_tags(archive: Archive, fmt: str) -> None:
    response = fetch(archive.client, f"/excerpts/{archive.slug}/clip.{fmt}")
    assert response.status_code == 200
    assert response.mimetype == MEDIA_TYPES[fmt]
    assert response.headers["Content-Disposition"] == f'inline; filename="1961-01-20 Ask not.{fmt}"'
    assert "max-age" in response.headers["Cache-Control"] and response.headers["ETag"]
    with opened(response.data) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        duration = samples / stream.rate
        tags = tags_of(container)
    assert duration == pytest.approx(archive.end - archive.start + 0.5, abs=0.1)
    assert tags["title"] == "Ask not"
    assert tags["artist"] == "John F. Kennedy"
    assert tags["album"] == "Inaugural address"
    assert tags["date"] == "1961-01-20"
    assert f"{PUBLIC_URL}/excerpts/{archive.slug}" in tags["comment"]
    assert "https://example.org/jfk" in tags["comment"]


@pytest.mark.slow
def test_the_clip_says_the_quote(archive: Archive, tmp_path: Path) -> None:
    from archive.transcribe import make_transcriber

    path = tmp_path / "clip.m4a"
    path.write_bytes(fetch(archive.client, f"/excerpts/{archive.slug}/clip.m4a").data)
    _, audio = decode_audio(path)
    heard = make_transcriber(archive.settings).transcribe(audio).text
    assert normalize(archive.quote).split()[:3] == ["ask", "not", "what"]
    assert word_error_rate(archive.quote, heard) <= 0.1, (archive.quote, heard)


def test_a_second_request_comes_from_the_cache_and_ranges_are_answered(archive: Archive) -> None:
    url = f"/excerpts/{archive.slug}/clip.mp3"
    first = fetch(archive.client, url)
    cache = archive.settings.home / "cache" / "clips"
    [path] = cache.glob(f"{archive.slug}-*.mp3")
    made = path.stat().st_mtime_ns
    time.sleep(0.01)
    again = fetch(archive.client, url)
    assert again.data == first.data and path.stat().st_mtime_ns == made
    part = fetch(archive.client, url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(first.data)}"
    assert part.data == first.data[:100]
    fresh = fetch(archive.client, url, headers={"If-None-Match": first.headers["ETag"]})
    assert fresh.status_code == 304
    assert not [p for p in cache.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")]


def test_a_changed_title_or_speaker_makes_a_new_clip(archive: Archive) -> None:
    url = f"/excerpts/{archive.slug}/clip.ogg"
    before = fetch(archive.client, url)
    with archive.sessions() as session, session.begin():  # type: ignore[operator]
        session.scalar(select(Excerpt).where(Excerpt.slug == archive.slug)).title = "Ask not – what you can do"
    try:
        retitled = fetch(archive.client, url)
        assert retitled.headers["ETag"] != before.headers["ETag"]
        with opened(retitled.data) as container:
            assert tags_of(container)["title"] == "Ask not – what you can do"
        assert retitled.headers["Content-Disposition"] == (
            'inline; filename="1961-01-20 Ask not - what you can do.ogg"; '
            "filename*=UTF-8''1961-01-20%20Ask%20not%20%E2%80%93%20what%20you%20can%20do.ogg"
        )
    finally:
        with archive.sessions() as session, session.begin():  # type: ignore[operator]
            session.scalar(select(Excerpt).where(Excerpt.slug == archive.slug)).title = "Ask not"
    assert fetch(archive.client, url).headers["ETag"] == before.headers["ETag"]  # the first file again
    with archive.sessions() as session, session.begin():  # type: ignore[operator]
        session.scalar(select(Person).where(Person.name == "John F. Kennedy")).name = "President Kennedy"
    try:
        renamed = fetch(archive.client, url)
        with opened(renamed.data) as container:
            assert tags_of(container)["artist"] == "President Kennedy"
    finally:
        with archive.sessions() as session, session.begin():  # type: ignore[operator]
            session.scalar(select(Person).where(Person.name == "President Kennedy")).name = "John F. Kennedy"


def test_unknown_excerpts_and_formats_are_not_found(archive: Archive) -> None:
    missing = fetch(archive.client, "/excerpts/zzzzzzzz/clip.m4a")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert fetch(archive.client, f"/excerpts/{archive.slug}/clip.wav").status_code == 404
    # No video in jfk.flac: clip.mp4 is the captioned video of the card (tests/excerpts/test_video.py), not a cut.
    video = fetch(archive.client, f"/excerpts/{archive.slug}/clip.mp4")
    assert video.status_code == 200 and video.mimetype == "video/mp4"
    with opened(video.data) as container:
        assert {s.type for s in container.streams} == {"video", "audio"}


def test_concurrent_first_requests_make_one_file(archive: Archive, tmp_path: Path) -> None:
    with archive.sessions() as session:  # type: ignore[operator]
        excerpt = find_excerpt(session, archive.slug)
        document = excerpt_document(session, excerpt)
    source = archive.settings.media_dir.rglob("*.flac").__next__()
    results: list[Path] = []

    def request() -> None:
        results.append(excerpt_clip(tmp_path, document, source, 11.0, "m4a", {"title": "Ask not"}))

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1 and len(results) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == [results[0].name]  # no temporary or lock files left
    with av.open(str(results[0])) as container:
        assert container.duration / 1e6 == pytest.approx(archive.end - archive.start + 0.5, abs=0.1)


# --- the cutter itself, on generated media ----------------------------------------------------------


def test_one_build_for_concurrent_callers(tmp_path: Path) -> None:
    built: list[int] = []

    def build(temp: Path) -> None:
        built.append(1)
        time.sleep(0.2)
        temp.write_bytes(b"whole")

    target = tmp_path / "x.bin"
    threads = [threading.Thread(target=cached, args=(target, build)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert built == [1] and target.read_bytes() == b"whole"


def test_a_failed_build_leaves_nothing(tmp_path: Path) -> None:
    def build(temp: Path) -> None:
        temp.write_bytes(b"half")
        raise RuntimeError("encoder died")

    with pytest.raises(RuntimeError):
        cached(tmp_path / "x.bin", build)
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []


def test_the_span_is_padded_within_the_file() -> None:
    assert clip_span(3.72, 8.02, 11.0) == pytest.approx((3.47, 8.27))
    assert clip_span(0.1, 10.9, 11.0) == (0.0, 11.0)


def test_the_cut_is_sample_exact_after_a_seek(tmp_path: Path) -> None:
    # A minute of speech as MP3 (whose first frame carries the encoder's delay as its time): the cut at 50 s
    # starts with a seek and must match the decoded file at the same second, as transcripts count time.
    long = np.concatenate([speech()] * 6)
    source = encode(long, tmp_path / "long.mp3", "mp3", "libmp3lame")
    _, full = decode_audio(source)
    report = cut_clip(source, tmp_path / "cut.m4a", start=50.0, end=54.0, fmt="m4a", tags={})
    assert report["duration"] == pytest.approx(4.0, abs=0.001)
    _, clip = decode_audio(tmp_path / "cut.m4a")
    reference = full[int(49.5 * SAMPLE_RATE) : int(54.5 * SAMPLE_RATE)]
    middle = clip[SAMPLE_RATE : 3 * SAMPLE_RATE]  # 51 s to 53 s
    lag = int(np.argmax(np.correlate(reference, middle, mode="valid"))) - int(1.5 * SAMPLE_RATE)
    assert abs(lag) <= 16  # within a millisecond


def test_a_clip_fades_in_and_out(tmp_path: Path) -> None:
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(10 * SAMPLE_RATE) / SAMPLE_RATE)).astype(np.float32)
    source = encode(tone, tmp_path / "tone.flac", "flac", "flac")
    cut_clip(source, tmp_path / "tone.mp3", start=4.0, end=6.0, fmt="mp3", tags={})
    _, clip = decode_audio(tmp_path / "tone.mp3")
    ms = SAMPLE_RATE // 1000
    assert np.abs(clip[: 2 * ms]).max() < 0.05 and np.abs(clip[-2 * ms :]).max() < 0.05  # silent at the cuts
    assert 0.15 < np.abs(clip[24 * ms : 26 * ms]).max() < 0.35  # halfway through the 50 ms fade
    assert np.abs(clip[SAMPLE_RATE : SAMPLE_RATE + 10 * ms]).max() == pytest.approx(0.5, abs=0.05)


def test_a_video_clip_has_h264_and_aac(tmp_path: Path) -> None:
    source = encode(speech(), tmp_path / "meeting.mp4", "mp4", "aac", video="libx264")
    report = cut_clip(source, tmp_path / "clip.mp4", start=3.0, end=7.5, fmt="mp4", tags={"title": "Ask not"})
    assert report == {"duration": 4.5, "video": True}
    with av.open(str(tmp_path / "clip.mp4")) as container:
        codecs = {s.type: s.codec_context.name for s in container.streams}
        assert codecs == {"audio": "aac", "video": "h264"}
        assert container.metadata["title"] == "Ask not"
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == pytest.approx(4.5 * 5, abs=2)  # the source has 5 frames a second


def test_a_bad_source_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    from archive.errors import UnsupportedMedia

    bad = tmp_path / "notes.wav"
    bad.write_bytes(b"not a recording\n" * 100)
    with pytest.raises(UnsupportedMedia, match="clip of x: not a readable audio or video file"):
        cut_clip(bad, tmp_path / "x.m4a", start=0, end=1, fmt="m4a", tags={}, name="clip of x")


def test_content_disposition_is_ascii_safe() -> None:
    assert content_disposition("2024-02-07 Hot mic.m4a") == 'inline; filename="2024-02-07 Hot mic.m4a"'
    header = content_disposition('2024-02-07 "Señor" / élan\r\n.mp3')
    assert header.startswith("inline; filename=\"2024-02-07 Senor elan.mp3\"; filename*=UTF-8''2024-02-07%20%22Se")
    assert "\r" not in header and "\n" not in header


def test_host_headers_cut_no_new_clips_or_cards(archive: Archive) -> None:
    """Issue 17: without a public address, each new Host header cut a new clip (1.3–1.7 s) and filled the cache."""
    app = create_app(dataclasses.replace(archive.settings, public_url=""))
    client = app.test_client()
    try:
        for kind, url in (
            ("clips", f"/excerpts/{archive.slug}/clip.ogg"),
            ("cards", f"/excerpts/{archive.slug}/card.png"),
        ):
            first = fetch(client, url, base_url="http://one.example")
            folder = archive.settings.home / "cache" / kind
            files = {path: path.stat().st_mtime_ns for path in folder.iterdir()}
            for n in range(5):
                again = fetch(client, url, base_url=f"http://attacker-{n}.example")
                assert again.status_code == 200 and again.data == first.data
            assert {path: path.stat().st_mtime_ns for path in folder.iterdir()} == files  # nothing cut or drawn
        with opened(fetch(client, f"/excerpts/{archive.slug}/clip.ogg").data) as container:
            comment = tags_of(container)["comment"]
        assert comment == "Joint Session of Congress; recording: https://example.org/jfk"  # no request's host
    finally:
        app.extensions["sessions"].kw["bind"].dispose()
