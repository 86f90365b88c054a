"""Splitting a multi-channel recording into a lossless mono file per channel, in the decoder's child process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from archive.errors import UnsupportedMedia
from archive.media.channels import split_channels
from archive.media.decode import decode_audio
from tests.fixtures.synth.mix import write_wav


def test_each_channel_comes_out_exactly_as_it_went_in(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    channels = [rng.uniform(-0.5, 0.5, 16_000).astype(np.float32) for _ in range(3)]
    write_wav(tmp_path / "mixer.wav", channels)
    out = tmp_path / "out"
    out.mkdir()
    paths = split_channels(tmp_path / "mixer.wav", out, name="mixer.wav", timeout=60, memory_mb=2048)
    assert [p.name for p in paths] == ["channel-1.flac", "channel-2.flac", "channel-3.flac"]
    for path, channel in zip(paths, channels, strict=True):
        info, audio = decode_audio(path)
        assert info.container == "flac" and len(audio) == len(channel)
        # 16-bit in, 16-bit FLAC out: the same samples (within the 16-bit step of the WAV itself).
        assert np.abs(audio - channel).max() <= 1 / 32768 + 1e-6


@pytest.mark.parametrize(
    ("content", "reason"),
    [("mono", "has one channel: there is nothing to split"), ("text", "not a readable audio or video file")],
)
def test_what_cannot_be_split_is_refused_naming_the_file(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "in.wav"
    if content == "mono":
        write_wav(path, [np.zeros(16_000, np.float32)])
    else:
        path.write_text("not audio")
    with pytest.raises(UnsupportedMedia, match=f"in.wav: .*{reason}"):
        split_channels(path, tmp_path, name="in.wav", timeout=60, memory_mb=2048)
