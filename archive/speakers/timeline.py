"""Who speaks when, frame by frame: the windows' local activity relabelled with the meeting's speakers and
averaged over the overlapping windows, read out as turns and as overlaps (two or more voices at once)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archive.speakers.windows import FRAME_SIZE, FRAME_STEP, SAMPLE_RATE, LocalSpeakers

MIN_TURN_GAP = 0.25  # gaps shorter than this within one speaker's speech are closed
MIN_TURN = 0.1  # turns shorter than this are dropped
# Overlaps: two voices in fewer than 0.5 s is a speaker change's jitter or a breath, not something to listen to;
# the stretches of a longer one split by short gaps are one overlap. Measured on the fixtures (README, "Speakers").
MIN_OVERLAP = 0.5
MIN_OVERLAP_GAP = 0.5
BLOCK_FRAMES = 100_000  # about half an hour of frames averaged at a time


@dataclass(frozen=True)
class Turn:
    """A stretch of time (seconds from the start of the recording) when one speaker talks."""

    start: float
    end: float
    speaker: int


@dataclass(frozen=True)
class Overlap:
    """A stretch when two or more speakers talk at once (seconds from the start of the recording)."""

    start: float
    end: float
    speakers: tuple[int, ...]  # who, by index into the meeting's voices, in order


@dataclass(frozen=True)
class Timeline:
    turns: list[Turn]
    overlaps: list[Overlap]


def reconstruct(recording: LocalSpeakers, labels: np.ndarray, speakers: int) -> Timeline:
    """Turns and overlaps from the windows' local activity, relabelled and averaged over overlapping windows:
    at each frame the n most active speakers talk, n being the averaged number of local speakers.

    The averaging runs BLOCK_FRAMES at a time, so that what it holds does not grow with the recording: on ten hours
    the whole timeline's scores would take hundreds of megabytes, the answer (who talks in each frame) a bit each."""
    if speakers == 0:
        return Timeline([], [])
    # Only frames inside the recording; the last window was padded with silence.
    last_frame = int(np.ceil(max(recording.num_samples - FRAME_SIZE, 0) / FRAME_STEP)) + 1
    active = np.zeros((last_frame, speakers), dtype=bool)
    firsts = np.array([int(round(start / FRAME_STEP)) for start in recording.window_starts], dtype=np.int64)
    local_to_global = {(w, k): s for w, k, s in zip(recording.unit_window, recording.unit_local, labels, strict=True)}
    for first in range(0, last_frame, BLOCK_FRAMES):
        stop = min(first + BLOCK_FRAMES, last_frame)
        active[first:stop] = _active(recording, firsts, local_to_global, speakers, first, stop)
    duration = recording.num_samples / SAMPLE_RATE
    return Timeline(_turns(active, duration), _overlaps(active, duration))


def _active(
    recording: LocalSpeakers,
    firsts: np.ndarray,
    local_to_global: dict[tuple[int, int], int],
    speakers: int,
    first: int,
    stop: int,
) -> np.ndarray:
    """Who talks in frames [first, stop): the windows that reach them, relabelled, weighted and averaged."""
    frames_per_window = recording.activity.shape[1]
    weight = np.hamming(frames_per_window)  # a window's edges know less than its middle
    score = np.zeros((stop - first, speakers))
    count = np.zeros(stop - first)
    coverage = np.zeros(stop - first)
    for w in np.flatnonzero((firsts < stop) & (firsts + frames_per_window > first)):
        inside = slice(max(first - firsts[w], 0), min(stop - firsts[w], frames_per_window))  # the window's frames
        here = slice(max(firsts[w] - first, 0), max(firsts[w] - first, 0) + inside.stop - inside.start)
        activity = recording.activity[w, inside]
        count[here] += activity.sum(axis=1) * weight[inside]
        coverage[here] += weight[inside]
        for k in range(activity.shape[1]):
            speaker = local_to_global.get((int(w), k), -1)
            if speaker >= 0:
                score[here, speaker] += activity[:, k] * weight[inside]
    covered = coverage > 0
    score[covered] /= coverage[covered, None]
    speaking = np.rint(np.where(covered, count / np.maximum(coverage, 1e-9), 0)).astype(int)
    active = np.zeros_like(score, dtype=bool)
    order = np.argsort(-score, axis=1)
    for n in range(1, speakers + 1):
        rows = np.flatnonzero(speaking >= n)
        chosen = order[rows, n - 1]
        active[rows, chosen] = score[rows, chosen] > 0
    return active


def _spans(column: np.ndarray, min_gap: float) -> list[list[float]]:
    """[start, end] seconds of the runs of True frames, runs closer than `min_gap` joined."""
    half = FRAME_STEP / SAMPLE_RATE / 2
    edges = np.flatnonzero(np.diff(np.concatenate([[False], column, [False]]).astype(int)))
    spans: list[list[float]] = []
    for first, stop in zip(edges[::2], edges[1::2], strict=True):
        start = (first * FRAME_STEP + FRAME_SIZE / 2) / SAMPLE_RATE - half
        end = ((stop - 1) * FRAME_STEP + FRAME_SIZE / 2) / SAMPLE_RATE + half
        if spans and start - spans[-1][1] < min_gap:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return spans


def _turns(active: np.ndarray, duration: float) -> list[Turn]:
    turns: list[Turn] = []
    for speaker in range(active.shape[1]):
        turns.extend(
            Turn(round(float(max(s, 0.0)), 3), round(float(min(e, duration)), 3), speaker)
            for s, e in _spans(active[:, speaker], MIN_TURN_GAP)
            if e - s >= MIN_TURN
        )
    return sorted(turns, key=lambda t: (t.start, t.speaker))


def _overlaps(active: np.ndarray, duration: float) -> list[Overlap]:
    found = []
    several = active.sum(axis=1) >= 2
    for start, end in _spans(several, MIN_OVERLAP_GAP):
        if end - start < MIN_OVERLAP:
            continue
        first = max(int((start * SAMPLE_RATE - FRAME_SIZE / 2) // FRAME_STEP), 0)
        stop = int(np.ceil((end * SAMPLE_RATE - FRAME_SIZE / 2) / FRAME_STEP)) + 1
        inside = several[first:stop]
        who = np.flatnonzero(active[first:stop][inside].any(axis=0))
        found.append(
            Overlap(round(float(max(start, 0.0)), 3), round(float(min(end, duration)), 3), tuple(map(int, who)))
        )
    return found
