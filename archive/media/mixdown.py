"""The simultaneous tracks of one meeting summed into one recording (a 16 kHz mono 16-bit WAV), a block at a time.

Each track is read from its decoded file (archive.media.audio) at its own offset on the meeting's time, so memory
stays flat however long the meeting. Two passes over the tracks: the first finds the peak of the sum, the second
writes the sum scaled so that peak sits at HEADROOM_DB below full scale (only ever down: quiet tracks are not
raised, and nothing clips).
"""

from __future__ import annotations

import wave
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from archive.media.audio import SAMPLE_RATE, AudioSource

BLOCK_SECONDS = 60.0
HEADROOM_DB = 1.0  # the mix's loudest sample, below full scale


def write_mix(tracks: Sequence[tuple[AudioSource, float]], out: Path) -> float:
    """Write the sum of (audio, offset in seconds) tracks to `out` as WAV; returns the gain applied (≤ 1)."""
    peak = max((float(np.max(np.abs(block), initial=0.0)) for block in _summed(tracks)), default=0.0)
    ceiling = 10 ** (-HEADROOM_DB / 20)
    gain = min(1.0, ceiling / peak) if peak > 0 else 1.0
    with wave.open(str(out), "wb") as sink:
        sink.setnchannels(1)
        sink.setsampwidth(2)
        sink.setframerate(SAMPLE_RATE)
        for block in _summed(tracks):
            sink.writeframes(np.round(np.clip(block * gain, -1.0, 1.0) * 32767).astype("<i2").tobytes())
    return gain


def _summed(tracks: Sequence[tuple[AudioSource, float]]) -> Iterator[np.ndarray]:
    """The sum of the tracks on the meeting's time, BLOCK_SECONDS at a time (silence before a track's start)."""
    starts = [round(offset * SAMPLE_RATE) for _, offset in tracks]
    total = max((start + audio.num_samples for (audio, _), start in zip(tracks, starts, strict=True)), default=0)
    step = int(BLOCK_SECONDS * SAMPLE_RATE)
    for first in range(0, total, step):
        block = np.zeros(min(step, total - first), dtype=np.float64)
        for (audio, _), start in zip(tracks, starts, strict=True):
            samples = audio.read(first - start, first - start + len(block))
            at = max(start - first, 0)
            block[at : at + len(samples)] += samples
        yield block
