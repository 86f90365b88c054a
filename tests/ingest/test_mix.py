"""The mix of a meeting's tracks (archive.ingest.mix, archive.media.mixdown), with real files: the hot-mic fixture
ingested as a track per voice and as a two-channel file; what the public hears (the recording route, an excerpt's
clip, a redaction) is the mix, in which both the remark and the testimony said under it are heard.

No transcription (--no-transcribe): what is new is audio. The excerpt's words are the fixture's own timings."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.cli.main import main
from archive.db.lookups import meeting_by_slug
from archive.db.models import Meeting, Recording, Segment, TranscriptionRun
from archive.excerpts.manage import create_excerpt
from archive.media.audio import SAMPLE_RATE
from archive.media.clips import PAD
from archive.media.decode import decode_audio
from archive.media.mixdown import HEADROOM_DB
from tests.factories.media import FIXTURES

TRUTH = json.loads((FIXTURES / "hotmic" / "hotmic.json").read_text())
OVERLAP = (TRUTH["overlap"]["start"], TRUTH["overlap"]["end"])  # the remark, said over the testimony
MEETING = ["--body", "Council", "--title", "Hot mic", "--date", "2024-02-07", "--no-transcribe"]
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def ingest(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(main, ["ingest", *args, *MEETING])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "mixed its 2 tracks" in result.stderr
    return result.stdout.splitlines()[-1]


def samples(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getframerate(), wav.getnchannels()) == (SAMPLE_RATE, 1)
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float32) / 32767


def energy(audio: np.ndarray, start: float, end: float) -> float:
    return float(np.mean(np.square(audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)], dtype=np.float64)))


def assert_both_heard(mix: np.ndarray, testimony: np.ndarray, remark: np.ndarray, offset: float = 0.0) -> None:
    """Over the remark, the mix is the two voices summed: taking either one out leaves the other, whole."""
    n = min(len(mix), len(testimony), len(remark))
    mix, testimony, remark = mix[:n], testimony[:n], remark[:n]
    both = testimony + remark
    gain = float(np.dot(mix, both) / np.dot(both, both))  # the mix's scale, found from the audio itself
    assert 0.3 < gain <= 1.001  # scaled down only (1.001: 16-bit rounding)
    start, end = OVERLAP[0] - offset, OVERLAP[1] - offset
    for heard, other in [(remark, testimony), (testimony, remark)]:
        left = mix - gain * other
        assert energy(heard, start, end) > 1e-4  # the voice speaks here
        assert energy(left, start, end) == pytest.approx(energy(gain * heard, start, end), rel=0.05)
    assert np.max(np.abs(mix)) <= 10 ** (-HEADROOM_DB / 20) + 1e-3  # nothing clips


def public_recording(
    client: FlaskClient, sessions: sessionmaker[Session], slug: str, media_type: str = "audio/wav"
) -> bytes:
    """The recording the meeting page plays, fetched by the player's own address."""
    page = client.get(f"/meetings/{slug}").get_data(as_text=True)
    with sessions() as session:
        mix = meeting_by_slug(session, slug).mix
        assert mix is not None and mix.has_video is False
        address = f"/meetings/{slug}/recordings/{mix.position}{mix.suffix}"
        tracks = [
            f"/meetings/{slug}/recordings/{r.position}{r.suffix}" for r in meeting_by_slug(session, slug).recordings
        ]
    assert f'src="{address}#t=' in page and not any(f'src="{t}#t=' in page for t in tracks)
    for track in tracks:  # the tracks stay public as they were: a download each
        assert f'href="{track}" download' in page
        with client.get(track) as response:
            assert response.status_code == 200
    with client.get(address) as response:
        assert response.status_code == 200 and response.mimetype == media_type
        return response.data


@SQLITE
def test_a_track_per_voice_is_heard_as_one_mix(
    runner: CliRunner, client: FlaskClient, sessions: sessionmaker[Session], hotmic: Path
) -> None:
    testimony = decode_audio(hotmic / "hotmic-testimony.wav")[1]
    remark = decode_audio(hotmic / "hotmic-remark.wav")[1]
    slug = ingest(runner, str(hotmic / "hotmic-testimony.wav"), str(hotmic / "hotmic-remark.wav"), "--tracks")
    assert_both_heard(samples(public_recording(client, sessions, slug)), testimony, remark)

    # An excerpt over the remark: its clip is cut from the mix, both voices in it.
    with sessions() as session, session.begin():
        meeting = meeting_by_slug(session, slug)
        deputy = next(r for r in meeting.recordings if r.track == "hotmic-remark.wav")
        run = TranscriptionRun(
            recording=deputy, engine="test", model="-", engine_version="-", transcript_file="-", transcript_sha256="-"
        )
        words = [{**w, "probability": 0.9} for w in TRUTH["voices"]["remark"]["words"]]
        session.add(run)
        session.flush()
        session.add(
            Segment(
                meeting_id=meeting.id,
                recording_id=deputy.id,
                run_id=run.id,
                start=words[0]["start"],
                end=words[-1]["end"],
                text=TRUTH["voices"]["remark"]["text"],
                words=words,
            )
        )
        session.flush()
        excerpt = create_excerpt(session, slug, *OVERLAP, "The remark", created_by="test").slug
    # Its clip, and the captioned video (whose sound is that clip's), cut from the mix: both voices in them.
    for fmt in ("m4a", "mp4"):
        with client.get(f"/excerpts/{excerpt}/clip.{fmt}") as clip:
            assert clip.status_code == 200, clip.get_data(as_text=True)
            heard = _decoded(clip.data)
        # The clip starts a pad before the remark's first word (AAC shifts it a little more): find where, then
        # see that over the remark it follows each voice. A clip of one track would not follow the other voice
        # at all (the tracks are clean: a correlation near 0).
        at = _placed(heard, testimony + remark, around=OVERLAP[0] - PAD)
        window = slice(int((OVERLAP[0] - at) * SAMPLE_RATE), int((OVERLAP[1] - at) * SAMPLE_RATE))
        span = slice(window.start + int(at * SAMPLE_RATE), window.stop + int(at * SAMPLE_RATE))
        for voice in (testimony, remark):
            assert _correlation(heard[window], voice[span]) > 0.4, fmt


@SQLITE
def test_two_channels_are_mixed_and_a_redaction_silences_the_mix(
    runner: CliRunner, client: FlaskClient, sessions: sessionmaker[Session], hotmic: Path, tmp_path: Path
) -> None:
    slug = ingest(runner, str(hotmic / "hotmic-2ch.wav"), "--split-channels")
    testimony, remark = _channels(hotmic / "hotmic-2ch.wav", tmp_path)
    mix = samples(public_recording(client, sessions, slug))
    assert_both_heard(mix, testimony, remark)

    withheld = (OVERLAP[0] - 0.5, OVERLAP[1] + 0.5)
    who = ["--reason", "asked", "--requested-by", "the deputy", "--approved-by", "curator"]
    span = ["--start", str(withheld[0]), "--end", str(withheld[1])]
    result = runner.invoke(main, ["privacy", "redact", slug, *span, *who])
    assert result.exit_code == 0, result.output
    # The public copy of the mix, silenced there (an M4A, as for any recording with something withheld).
    silenced = _decoded(public_recording(client, sessions, slug, "audio/mp4"))
    assert energy(silenced, withheld[0] + 0.05, withheld[1] - 0.05) < 1e-7  # both voices gone there
    before = (withheld[0] - 8, withheld[0] - 1)  # the testimony alone, still heard
    assert energy(silenced, *before) == pytest.approx(energy(mix, *before), rel=0.1)

    # A purge takes the mix and its silenced copy with the tracks: nothing of the meeting's audio is left.
    home = Path(str(runner.env["TESTIMONY_HOME"]))
    assert len(list((home / "cache" / "public").iterdir())) == 3  # the mix's silenced copy, and each track's
    result = runner.invoke(main, ["privacy", "purge", slug, "--yes", *who])
    assert result.exit_code == 0, result.output
    assert [p for p in (home / "media").rglob("*") if p.is_file() and p.suffix != ".md"] == []
    assert list((home / "cache" / "public").iterdir()) == []


@SQLITE
def test_meetings_of_tracks_ingested_before_mixes_get_one(
    runner: CliRunner, sessions: sessionmaker[Session], hotmic: Path
) -> None:
    slug = ingest(runner, str(hotmic / "hotmic-testimony.wav"), str(hotmic / "hotmic-remark.wav"), "--tracks")
    with sessions() as session, session.begin():  # as a meeting ingested before mixes were made
        session.delete(session.scalar(select(Recording).where(Recording.mix.is_(True))))
    result = runner.invoke(main, ["mix"])
    assert result.exit_code == 0 and "mixed 1 meeting(s)" in result.stdout, result.output
    assert runner.invoke(main, ["mix"]).stdout.strip() == "mixed 0 meeting(s)"  # once
    with sessions() as session:
        meeting = session.scalar(select(Meeting).where(Meeting.slug == slug))
        assert meeting is not None and meeting.mix is not None and len(meeting.recordings) == 2
    assert runner.invoke(main, ["check"]).exit_code == 0


def _decoded(data: bytes) -> np.ndarray:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".media") as f:
        f.write(data)
        f.flush()
        return decode_audio(Path(f.name))[1]


def _channels(path: Path, folder: Path) -> list[np.ndarray]:
    from archive.media.channels import split_channels

    return [decode_audio(p)[1] for p in split_channels(path, folder, name=str(path), timeout=60, memory_mb=2048)]


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n], b[:n])[0, 1])


def _placed(clip: np.ndarray, meeting: np.ndarray, around: float) -> float:
    """Where on the meeting's time the clip starts: the lag within a second of `around` where they agree best."""
    probe = clip[: 4 * SAMPLE_RATE]
    lags = range(max(0, int((around - 1) * SAMPLE_RATE)), int((around + 1) * SAMPLE_RATE), 16)
    best = max(lags, key=lambda lag: float(np.dot(probe, meeting[lag : lag + len(probe)])))
    return best / SAMPLE_RATE
