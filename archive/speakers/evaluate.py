"""Diarization error rate (DER), the standard measure: (missed speech + false alarm + speaker confusion)
divided by the total reference speech, with a forgiveness collar around every reference boundary and the
best one-to-one mapping between reference and hypothesis speakers. Overlapped speech counts once per
speaker. Cross-checked against pyannote.metrics in the tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

RESOLUTION = 0.001  # seconds per frame of the scoring grid

Segment = tuple[float, float, str]  # start, end, speaker


def read_rttm(path: Path) -> list[Segment]:
    """The SPEAKER lines of an RTTM file: `SPEAKER uri channel start duration <NA> <NA> speaker …`."""
    segments = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[0] == "SPEAKER":
            start, duration = float(fields[3]), float(fields[4])
            segments.append((start, start + duration, fields[7]))
    return segments


@dataclass(frozen=True)
class DiarizationError:
    der: float
    missed: float  # seconds
    false_alarm: float
    confusion: float
    total: float  # reference speech, seconds (overlap counted per speaker)


def diarization_error(
    reference: Iterable[Segment], hypothesis: Iterable[Segment], collar: float = 0.0
) -> DiarizationError:
    reference, hypothesis = list(reference), list(hypothesis)
    end = max([e for _, e, _ in reference + hypothesis], default=0.0)
    frames = int(np.ceil(end / RESOLUTION)) + 1
    ref, ref_names = _grid(reference, frames)
    hyp, _ = _grid(hypothesis, frames)
    scored = np.ones(frames, dtype=bool)
    half = int(round(collar / 2 / RESOLUTION))  # the collar is split on both sides of each boundary
    if half:
        for start, stop, _ in reference:
            for edge in (start, stop):
                centre = int(round(edge / RESOLUTION))
                scored[max(centre - half, 0) : centre + half] = False
    ref, hyp = ref[:, scored], hyp[:, scored]
    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    # The mapping that maximises the time both agree on.
    overlap = ref.astype(np.int64) @ hyp.T.astype(np.int64) if len(ref) and len(hyp) else np.zeros((len(ref), len(hyp)))
    rows, cols = linear_sum_assignment(-overlap) if overlap.size else ([], [])
    correct = np.zeros(ref.shape[1])
    for r, h in zip(rows, cols, strict=True):
        correct += ref[r] & hyp[h]
    total = float(n_ref.sum()) * RESOLUTION
    missed = float(np.maximum(n_ref - n_hyp, 0).sum()) * RESOLUTION
    false_alarm = float(np.maximum(n_hyp - n_ref, 0).sum()) * RESOLUTION
    confusion = float((np.minimum(n_ref, n_hyp) - correct).sum()) * RESOLUTION
    der = (missed + false_alarm + confusion) / total if total else 0.0
    return DiarizationError(der, missed, false_alarm, confusion, total)


def _grid(segments: list[Segment], frames: int) -> tuple[np.ndarray, list[str]]:
    names = sorted({name for _, _, name in segments})
    grid = np.zeros((len(names), frames), dtype=bool)
    for start, stop, name in segments:
        grid[names.index(name), int(round(start / RESOLUTION)) : int(round(stop / RESOLUTION))] = True
    return grid, names
