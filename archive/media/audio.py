"""Decoded audio that the stages read a stretch at a time: a raw float32 file on disk, or an array in memory.

Ten hours of 16 kHz float32 is 2.3 GB. Ingest keeps the decoded recording on disk (archive.media.decode.decoded)
and transcription, voice activity, gap detection and diarization read only the window they work on, so the
worker's memory does not grow with the meeting's length. Reading with np.fromfile (offset and count) leaves the
file in the kernel's page cache, not in the process: a window read and dropped costs nothing afterwards, where
the touched pages of an np.memmap would count against the worker until unmapped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

SAMPLE_RATE = 16_000
_BYTES = np.dtype(np.float32).itemsize


class AudioSource(Protocol):
    """16 kHz mono float32 samples, read by sample offsets (clipped to the audio like a slice)."""

    @property
    def num_samples(self) -> int: ...

    def read(self, start: int, stop: int) -> np.ndarray: ...


class DecodedAudio:
    """A decoded recording on disk (raw float32, as the decoder child writes it); each read is a fresh array."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.num_samples = path.stat().st_size // _BYTES

    def read(self, start: int, stop: int) -> np.ndarray:
        start, stop = _clipped(start, stop, self.num_samples)
        if stop <= start:
            return np.zeros(0, dtype=np.float32)
        return np.fromfile(self.path, dtype=np.float32, count=stop - start, offset=start * _BYTES)


class ArrayAudio:
    """Samples already in memory (a short clip, a test's fixture): reads are views, nothing is copied."""

    def __init__(self, samples: np.ndarray) -> None:
        self.samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        self.num_samples = len(self.samples)

    def read(self, start: int, stop: int) -> np.ndarray:
        start, stop = _clipped(start, stop, self.num_samples)
        return self.samples[start:stop]


def as_source(audio: AudioSource | np.ndarray) -> AudioSource:
    """The stages take either: an array is wrapped (in memory already), a source is used as it is."""
    return ArrayAudio(audio) if isinstance(audio, np.ndarray) else audio


def duration(audio: AudioSource) -> float:
    return audio.num_samples / SAMPLE_RATE


def _clipped(start: int, stop: int, size: int) -> tuple[int, int]:
    return max(int(start), 0), min(int(stop), size)
