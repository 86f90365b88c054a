"""Tracks summed at their offsets, scaled under full scale (archive.media.mixdown)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from archive.media.audio import SAMPLE_RATE, ArrayAudio
from archive.media.mixdown import BLOCK_SECONDS, HEADROOM_DB, write_mix
from tests.factories.media import mostly_silent, speech


def read(path: Path) -> np.ndarray:
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float32) / 32767


def test_the_mix_is_written_a_block_at_a_time_at_each_tracks_offset(tmp_path: Path) -> None:
    tone = np.full(SAMPLE_RATE, 0.8, dtype=np.float32)
    gain = write_mix([(ArrayAudio(tone), 0.0), (ArrayAudio(tone), 0.5)], tmp_path / "mix.wav")
    mix = read(tmp_path / "mix.wav")
    assert len(mix) == int(1.5 * SAMPLE_RATE)  # to where the later track ends
    assert gain == pytest.approx(10 ** (-HEADROOM_DB / 20) / 1.6)  # 0.8 + 0.8 brought under full scale
    assert mix[100] == pytest.approx(0.8 * gain, abs=1e-4) and mix[int(0.75 * SAMPLE_RATE)] == pytest.approx(
        1.6 * gain, abs=1e-4
    )


def test_quiet_tracks_are_not_raised_and_silence_stays_silent(tmp_path: Path) -> None:
    quiet = np.full(SAMPLE_RATE, 0.1, dtype=np.float32)
    assert write_mix([(ArrayAudio(quiet), 0.0), (ArrayAudio(np.zeros(10, np.float32)), 2.0)], tmp_path / "m.wav") == 1
    mix = read(tmp_path / "m.wav")
    assert mix[:SAMPLE_RATE] == pytest.approx(np.full(SAMPLE_RATE, 0.1), abs=1e-4)
    assert not mix[SAMPLE_RATE:].any() and len(mix) == 2 * SAMPLE_RATE + 10


def test_long_tracks_are_read_a_block_at_a_time(tmp_path: Path) -> None:
    """Twelve minutes of two tracks: never more than a block of either is read at once, and each voice is placed
    at its track's offset."""
    jfk = speech()
    first = mostly_silent(tmp_path / "a.f32", 12 * 60, {100.0: jfk})
    second = mostly_silent(tmp_path / "b.f32", 12 * 60, {400.0: jfk})
    write_mix([(first, 0.0), (second, 30.0)], tmp_path / "mix.wav")
    assert max(first.reads + second.reads) <= BLOCK_SECONDS * SAMPLE_RATE
    mix = read(tmp_path / "mix.wav")
    assert len(mix) == (12 * 60 + 30) * SAMPLE_RATE
    loud = np.flatnonzero(np.abs(mix) > 0.01) / SAMPLE_RATE
    assert 100 <= loud.min() < 101 and 430 + len(jfk) / SAMPLE_RATE - 1 < loud.max() <= 430 + len(jfk) / SAMPLE_RATE
    assert not ((loud > 100 + len(jfk) / SAMPLE_RATE) & (loud < 430)).any()
