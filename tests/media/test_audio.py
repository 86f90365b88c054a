"""Decoded audio kept on disk and read a stretch at a time, as the stages read it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from archive.media.audio import ArrayAudio, as_source
from archive.media.decode import SAMPLE_RATE, decode_audio, decoded
from tests.factories.media import FIXTURES, mostly_silent, speech


def test_the_decoded_file_reads_what_decode_audio_returns_and_is_removed_after() -> None:
    _, whole = decode_audio(FIXTURES / "jfk.flac")
    with decoded(FIXTURES / "jfk.flac") as (info, audio):
        assert audio.num_samples == len(whole) == round(info.duration * SAMPLE_RATE)
        assert np.array_equal(audio.read(16_000, 48_000), whole[16_000:48_000])
        assert np.array_equal(audio.read(-5, 10), whole[:10])  # clipped like a slice
        assert len(audio.read(len(whole) - 3, len(whole) + 100)) == 3
        assert len(audio.read(len(whole) + 10, len(whole) + 20)) == 0
        path = audio.path
    assert not path.exists()


def test_an_array_is_a_source_in_memory_and_a_source_stays_itself(tmp_path: Path) -> None:
    samples = speech()
    source = as_source(samples)
    assert isinstance(source, ArrayAudio) and source.num_samples == len(samples)
    assert np.array_equal(source.read(100, 200), samples[100:200])
    on_disk = mostly_silent(tmp_path / "audio.f32", 60, {10.0: samples})
    assert as_source(on_disk) is on_disk
    assert np.array_equal(on_disk.read(10 * SAMPLE_RATE, 10 * SAMPLE_RATE + len(samples)), samples)
    assert not on_disk.read(0, 10 * SAMPLE_RATE).any()
