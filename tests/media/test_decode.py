"""Probing and decoding real media files of every accepted format, and refusing bad ones clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from archive.errors import DecodeFailed, UnsupportedMedia
from archive.media.decode import SAMPLE_RATE, decode_audio, probe
from tests.factories.media import FIXTURES, encode, speech

FORMATS = [
    # (file name, container, codec, video codec, stored suffix)
    ("jfk.wav", "wav", "pcm_s16le", None, ".wav"),
    ("jfk.flac", "flac", "flac", None, ".flac"),
    ("jfk.mp3", "mp3", "libmp3lame", None, ".mp3"),
    ("jfk.m4a", "mp4", "aac", None, ".m4a"),
    ("jfk.ogg", "ogg", "libopus", None, ".ogg"),
    ("jfk.mp4", "mp4", "aac", "libx264", ".mp4"),
    ("jfk.webm", "webm", "libopus", "libvpx", ".webm"),
    ("jfk.mkv", "matroska", "flac", "mpeg4", ".mkv"),
]


@pytest.mark.parametrize(("name", "fmt", "codec", "video", "suffix"), FORMATS)
def test_every_accepted_format_decodes_to_16khz_mono(tmp_path: Path, name, fmt, codec, video, suffix) -> None:
    source = speech()
    path = encode(source, tmp_path / name, fmt, codec, video=video)
    info, audio = decode_audio(path)
    assert info.suffix == suffix
    assert info.has_video is bool(video)
    assert audio.dtype == np.float32
    assert abs(len(audio) / SAMPLE_RATE - 11.0) < 0.1
    assert info.duration == pytest.approx(len(audio) / SAMPLE_RATE, abs=0.001)
    # The signal survives the codec: loudness within 1 dB of the original.
    assert 20 * np.log10(np.std(audio) / np.std(source)) == pytest.approx(0, abs=1)


def test_decoded_flac_matches_the_samples(tmp_path: Path) -> None:
    _, audio = decode_audio(FIXTURES / "jfk.flac")
    np.testing.assert_allclose(audio, speech(), atol=1e-6)


def test_probe_does_not_write_samples() -> None:
    info = probe(FIXTURES / "sample.wav")
    assert (info.container, info.duration, info.has_video) == ("wav", 30.0, False)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.wav", b"", "the file is empty"),
        ("notes.wav", b"These are my meeting notes, not a recording.\n" * 20, "not a readable audio or video file"),
        ("noise.mp3", np.random.default_rng(7).bytes(50_000), "not a readable audio or video file"),
    ],
)
def test_bad_files_are_refused_with_their_name(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnsupportedMedia) as error:
        probe(path)
    assert str(error.value).startswith(f"{path}: {message}")
    assert "\n" not in str(error.value)


def test_truncated_mp4_is_refused(tmp_path: Path) -> None:
    whole = encode(speech(), tmp_path / "whole.mp4", "mp4", "aac", video="libx264").read_bytes()
    path = tmp_path / "truncated.mp4"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(UnsupportedMedia, match=r"truncated\.mp4: "):
        probe(path)


def test_a_twentieth_of_a_second_is_too_short(tmp_path: Path) -> None:
    path = encode(speech()[: SAMPLE_RATE // 20], tmp_path / "blip.wav", "wav", "pcm_s16le")
    with pytest.raises(UnsupportedMedia, match=r"blip\.wav: too short to hold speech \(0\.05 s"):
        probe(path)


def test_a_file_without_audio_is_refused(tmp_path: Path) -> None:
    import av

    path = tmp_path / "silent-film.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(UnsupportedMedia, match="has no audio stream"):
        probe(path)


def test_a_decoder_that_runs_too_long_is_stopped() -> None:
    with pytest.raises(DecodeFailed, match=r"sample\.wav: decoding took longer than 0\.01 s"):
        probe(FIXTURES / "sample.wav", timeout=0.01)


def test_a_decoder_over_its_memory_limit_fails_in_the_child_only() -> None:
    # 64 MiB of address space is not even enough to load FFmpeg: the child dies, we get a clear error.
    with pytest.raises(DecodeFailed, match=r"sample\.wav: the decoder"):
        probe(FIXTURES / "sample.wav", memory_mb=64)


LONG = FIXTURES / "long"  # made by tests/fixtures/long/make_long.py, truth in truth.json


def test_a_recording_longer_than_the_limit_is_refused_by_its_header(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMedia) as refused:
        probe(LONG / "silence-2h10m.flac", max_duration=2 * 3600)
    assert str(refused.value).endswith(
        "the recording is 2 h 10 min long; this archive takes at most 2 h (TESTIMONY_MAX_DURATION)"
    )
    assert probe(LONG / "silence-2h10m.flac", max_duration=3 * 3600).duration == 7800.0


def test_a_header_that_lies_about_the_length_is_caught_while_decoding(tmp_path: Path) -> None:
    # The header says 30 s; 90 s are there. Decoding stops just past the limit, not at the end.
    with pytest.raises(
        UnsupportedMedia, match=r"longer than its header says \(30 s\); this archive takes at most 1 min"
    ):
        probe(LONG / "lying-90s.flac", max_duration=60)
    with pytest.raises(UnsupportedMedia, match="longer than its header says"):
        decode_audio(LONG / "lying-90s.flac", max_duration=60)
    assert probe(LONG / "lying-90s.flac").duration == 90.0  # no limit: the truth
