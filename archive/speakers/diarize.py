"""Speaker diarization: who speaks when, offline, with an automatic number of speakers.

The method is pyannote's (segmentation-3.0 with a clustering of local speakers), with CAM++ embeddings:

1. Segmentation. A 10 s window slides over the recording in steps of `step` seconds. In each window the
   segmentation network says, every ~17 ms, which of up to three *local* speakers talk, overlap included.
2. Embeddings. For each local speaker of each window, CAM++ embeds the fbank frames where that speaker
   talks alone (clean speech): one vector per (window, local speaker), a "unit".
3. Clustering. Units with enough clean speech are clustered by agglomerative clustering (average linkage
   on cosine distance) with a distance threshold: the number of speakers follows from the threshold, not
   from a guess. Clusters with too little speech join their nearest neighbour.
4. Assignment. Within a window, local speakers are different people, so units are matched to cluster
   centroids one-to-one (Hungarian algorithm); every unit, short ones too, gets a global speaker.
5. Reconstruction. Each window's local activity, relabelled with global speakers, is averaged over the
   overlapping windows; at every frame the `n` most active speakers speak, `n` being the averaged number
   of local speakers (so two people talking at once give two overlapping turns).

Memory stays bounded on long meetings: windows are processed in batches and only their small outputs are
kept (3 activity values per frame, one 192-d vector per unit), never a second copy of the audio.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import kaldi_native_fbank as knf
import numpy as np
import torch
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment

from archive.speakers.networks import EMBEDDING_MODEL, POWERSET, PyanNet, load_embedding, load_segmentation

SAMPLE_RATE = 16_000
WINDOW_SECONDS = 10.0  # what segmentation-3.0 was trained on
FRAME_STEP = PyanNet.frame_step()  # samples
FRAME_SIZE = PyanNet.frame_size()
EMBEDDING_SIZE = 192

# Tuned on the fixtures (docs/benchmarks.md, "Diarization"), in this order of importance.
CLUSTER_THRESHOLD = 0.375  # cosine distance at which average-linkage clustering stops merging
MIN_CLUSTER_SECONDS = 1.0  # clean speech a unit needs to take part in clustering
MIN_SPEAKER_SECONDS = 2.0  # a cluster with less clean speech joins its nearest neighbour
MIN_EMBED_SECONDS = 0.1  # below this a unit has no embedding and follows its window's other units
MIN_TURN_GAP = 0.25  # gaps shorter than this within one speaker's speech are closed
MIN_TURN = 0.1  # turns shorter than this are dropped


@dataclass(frozen=True)
class Turn:
    """A stretch of time (seconds from the start of the recording) when one speaker talks."""

    start: float
    end: float
    speaker: int


@dataclass(frozen=True)
class Voice:
    """One speaker found in a meeting: their mean embedding (L2-normalised) and their talk time."""

    embedding: np.ndarray
    speech_seconds: float


@dataclass
class LocalSpeakers:
    """What segmentation and embedding found in one recording, before clustering across the meeting."""

    num_samples: int
    window_starts: np.ndarray  # (windows,) sample offsets
    activity: np.ndarray  # (windows, frames, 3) 0/1: local speaker k talks in frame i of window w
    unit_window: np.ndarray  # (units,) which window
    unit_local: np.ndarray  # (units,) which local speaker
    unit_seconds: np.ndarray  # (units,) clean speech the embedding saw
    unit_embeddings: np.ndarray  # (units, 192), L2-normalised; zeros when the unit had too little speech


@dataclass
class Diarization:
    """A meeting's speakers: voices, and each recording's turns (speaker = index into voices)."""

    voices: list[Voice]
    turns: list[list[Turn]] = field(default_factory=list)
    processing_seconds: float = 0.0
    model: str = EMBEDDING_MODEL


class Diarizer:
    """Loads the two networks once; `diarize` a recording, or `local_speakers` + `cluster` for a meeting
    made of several recordings (one set of speakers across all of them)."""

    model = EMBEDDING_MODEL

    def __init__(self, threads: int = 1, step: float = 5.0, batch_size: int = 8) -> None:
        torch.set_num_threads(threads)
        self.threads = threads
        self.step = step
        self.batch_size = batch_size
        self.segmentation = load_segmentation()
        self.embedding = load_embedding()
        fbank = knf.FbankOptions()
        fbank.frame_opts.dither = 0.0
        fbank.frame_opts.samp_freq = SAMPLE_RATE
        fbank.mel_opts.num_bins = 80
        self.fbank_options = fbank

    def diarize(self, audio: np.ndarray) -> Diarization:
        started = time.perf_counter()
        result = self.cluster([self.local_speakers(audio)])
        result.processing_seconds = time.perf_counter() - started
        return result

    # --- 1 and 2: segmentation and embeddings, one recording at a time ----------------------------------

    def local_speakers(self, audio: np.ndarray) -> LocalSpeakers:
        torch.set_num_threads(self.threads)
        audio = np.asarray(audio, dtype=np.float32)
        window = int(WINDOW_SECONDS * SAMPLE_RATE)
        step = int(self.step * SAMPLE_RATE)
        last = max(len(audio) - window, 0)
        starts = list(range(0, last + 1, step))
        if starts[-1] < last:
            starts.append(last)  # the end of the recording gets a window of its own
        activities: list[np.ndarray] = []
        units: list[tuple[int, int, float, np.ndarray]] = []
        for batch_start in range(0, len(starts), self.batch_size):
            batch_starts = starts[batch_start : batch_start + self.batch_size]
            chunks = np.zeros((len(batch_starts), 1, window), dtype=np.float32)
            for row, start in enumerate(batch_starts):
                piece = audio[start : start + window]
                chunks[row, 0, : len(piece)] = piece
            with torch.inference_mode():
                classes = self.segmentation(torch.from_numpy(chunks)).argmax(dim=-1)
            activity = POWERSET[classes].numpy()  # (batch, frames, 3)
            activities.append(activity)
            for row in range(len(batch_starts)):
                index = batch_start + row
                units.extend((index, *unit) for unit in self._embed_window(chunks[row, 0], activity[row]))
        return LocalSpeakers(
            num_samples=len(audio),
            window_starts=np.array(starts, dtype=np.int64),
            activity=np.concatenate(activities),
            unit_window=np.array([u[0] for u in units], dtype=np.int64),
            unit_local=np.array([u[1] for u in units], dtype=np.int64),
            unit_seconds=np.array([u[2] for u in units], dtype=np.float64),
            unit_embeddings=np.array([u[3] for u in units], dtype=np.float32).reshape(len(units), EMBEDDING_SIZE),
        )

    def _embed_window(self, chunk: np.ndarray, activity: np.ndarray) -> list[tuple[int, float, np.ndarray]]:
        """(local speaker, clean seconds, embedding) for each local speaker who talks in this window."""
        talking = [k for k in range(activity.shape[1]) if activity[:, k].any()]
        if not talking:
            return []
        features = self._fbank(chunk)
        # The segmentation frame nearest to each fbank frame's centre (25 ms windows every 10 ms).
        centres = np.arange(len(features)) * 160 + 200
        nearest = np.clip(np.rint((centres - FRAME_SIZE / 2) / FRAME_STEP).astype(int), 0, len(activity) - 1)
        alone = activity.sum(axis=1) == 1
        found = []
        for k in talking:
            clean = (activity[:, k] == 1) & alone
            seconds = float(clean.sum() * FRAME_STEP / SAMPLE_RATE)
            mask = clean[nearest] if clean.any() else (activity[:, k] == 1)[nearest]
            embedding = np.zeros(EMBEDDING_SIZE, dtype=np.float32)
            if mask.sum() * 0.01 >= MIN_EMBED_SECONDS:
                selected = features[mask]
                selected = selected - selected.mean(axis=0)
                with torch.inference_mode():
                    vector = self.embedding(torch.from_numpy(selected).unsqueeze(0))[0].numpy()
                embedding = vector / max(float(np.linalg.norm(vector)), 1e-9)
            found.append((k, seconds, embedding))
        return found

    def _fbank(self, chunk: np.ndarray) -> np.ndarray:
        fbank = knf.OnlineFbank(self.fbank_options)
        fbank.accept_waveform(SAMPLE_RATE, chunk)
        fbank.input_finished()
        return np.stack([fbank.get_frame(i) for i in range(fbank.num_frames_ready)]).astype(np.float32)

    # --- 3 to 5: clustering across the meeting, assignment, reconstruction ------------------------------

    def cluster(self, recordings: Sequence[LocalSpeakers]) -> Diarization:
        embeddings = np.concatenate([r.unit_embeddings for r in recordings]) if recordings else np.zeros((0, 192))
        seconds = np.concatenate([r.unit_seconds for r in recordings]) if recordings else np.zeros(0)
        centroids = cluster_centroids(embeddings, seconds)
        turns = [reconstruct(r, assign_units(r, centroids), len(centroids)) for r in recordings]
        return _ordered(centroids, turns)


def cluster_centroids(embeddings: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """The speakers' centroids (speakers, 192), L2-normalised, from the units with enough clean speech."""
    usable = (seconds >= MIN_CLUSTER_SECONDS) & (np.abs(embeddings).sum(axis=1) > 0)
    vectors, weights = embeddings[usable], seconds[usable]
    if len(vectors) == 0:
        return np.zeros((0, embeddings.shape[1] if embeddings.ndim == 2 else 192), dtype=np.float32)
    if len(vectors) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        tree = linkage(vectors, method="average", metric="cosine")
        labels = fcluster(tree, t=CLUSTER_THRESHOLD, criterion="distance") - 1
    clusters = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    # Small clusters (a cough, a chair creaking, a few words) join the nearest big one.
    big = [c for c in clusters if weights[c].sum() >= MIN_SPEAKER_SECONDS] or [
        max(clusters, key=lambda c: weights[c].sum())
    ]
    centroids = np.stack([_weighted_mean(vectors[c], weights[c]) for c in big])
    for members in clusters:
        if not any(members is c for c in big):
            nearest = int(np.argmax(centroids @ _weighted_mean(vectors[members], weights[members])))
            big[nearest] = np.concatenate([big[nearest], members])
    return np.stack([_weighted_mean(vectors[c], weights[c]) for c in big]).astype(np.float32)


def _weighted_mean(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    mean = (vectors * weights[:, None]).sum(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-9)


def assign_units(recording: LocalSpeakers, centroids: np.ndarray) -> np.ndarray:
    """A global speaker for every unit (-1 if there are no speakers): within a window, one-to-one where
    there are enough speakers; a unit without an embedding takes the speaker nobody else in its window has."""
    labels = np.full(len(recording.unit_window), -1, dtype=np.int64)
    if len(centroids) == 0:
        return labels
    similarity = recording.unit_embeddings @ centroids.T  # zeros for units without an embedding
    for window in np.unique(recording.unit_window):
        members = np.flatnonzero(recording.unit_window == window)
        rows, columns = linear_sum_assignment(-similarity[members])
        labels[members[rows]] = columns
        leftover = [m for m in members if labels[m] < 0]  # more local speakers than speakers
        for m in leftover:
            labels[m] = int(np.argmax(similarity[m]))
    return labels


def reconstruct(recording: LocalSpeakers, labels: np.ndarray, speakers: int) -> list[Turn]:
    """Turns from the windows' local activity, relabelled and averaged over overlapping windows."""
    if speakers == 0:
        return []
    frames_per_window = recording.activity.shape[1]
    total = int(np.ceil(recording.num_samples / FRAME_STEP)) + frames_per_window
    weight = np.hamming(frames_per_window)  # a window's edges know less than its middle
    score = np.zeros((total, speakers))
    count = np.zeros(total)
    coverage = np.zeros(total)
    local_to_global = {(w, k): s for w, k, s in zip(recording.unit_window, recording.unit_local, labels, strict=True)}
    for w, start in enumerate(recording.window_starts):
        first = int(round(start / FRAME_STEP))
        span = slice(first, first + frames_per_window)
        activity = recording.activity[w]
        count[span] += activity.sum(axis=1) * weight
        coverage[span] += weight
        for k in range(activity.shape[1]):
            speaker = local_to_global.get((w, k), -1)
            if speaker >= 0:
                score[span, speaker] += activity[:, k] * weight
    covered = coverage > 0
    score[covered] /= coverage[covered, None]
    speaking = np.rint(np.where(covered, count / np.maximum(coverage, 1e-9), 0)).astype(int)
    # Only frames inside the recording; the last window was padded with silence.
    last_frame = int(np.ceil(max(recording.num_samples - FRAME_SIZE, 0) / FRAME_STEP)) + 1
    active = np.zeros_like(score, dtype=bool)
    order = np.argsort(-score, axis=1)
    for n in range(1, speakers + 1):
        rows = np.flatnonzero(speaking[:last_frame] >= n)
        chosen = order[rows, n - 1]
        active[rows, chosen] = score[rows, chosen] > 0
    return _turns(active[:last_frame], recording.num_samples / SAMPLE_RATE)


def _turns(active: np.ndarray, duration: float) -> list[Turn]:
    turns: list[Turn] = []
    half = FRAME_STEP / SAMPLE_RATE / 2
    for speaker in range(active.shape[1]):
        column = np.concatenate([[False], active[:, speaker], [False]])
        edges = np.flatnonzero(np.diff(column.astype(int)))
        spans: list[list[float]] = []
        for first, stop in zip(edges[::2], edges[1::2], strict=True):
            start = (first * FRAME_STEP + FRAME_SIZE / 2) / SAMPLE_RATE - half
            end = ((stop - 1) * FRAME_STEP + FRAME_SIZE / 2) / SAMPLE_RATE + half
            if spans and start - spans[-1][1] < MIN_TURN_GAP:
                spans[-1][1] = end
            else:
                spans.append([start, end])
        turns.extend(
            Turn(round(float(max(s, 0.0)), 3), round(float(min(e, duration)), 3), speaker)
            for s, e in spans
            if e - s >= MIN_TURN
        )
    return sorted(turns, key=lambda t: (t.start, t.speaker))


def _ordered(centroids: np.ndarray, turns: list[list[Turn]]) -> Diarization:
    """Number speakers by their first turn (SPEAKER_00 speaks first) and drop those left without turns."""
    first_seen: dict[int, tuple[int, float]] = {}
    talk: dict[int, float] = {}
    for position, recording_turns in enumerate(turns):
        for turn in recording_turns:
            first_seen.setdefault(turn.speaker, (position, turn.start))
            talk[turn.speaker] = talk.get(turn.speaker, 0.0) + turn.end - turn.start
    order = sorted(first_seen, key=lambda s: first_seen[s])
    new = {old: i for i, old in enumerate(order)}
    return Diarization(
        voices=[Voice(centroids[old], round(talk[old], 3)) for old in order],
        turns=[[Turn(t.start, t.end, new[t.speaker]) for t in recording_turns] for recording_turns in turns],
    )
