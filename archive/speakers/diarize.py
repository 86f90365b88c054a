"""Speaker diarization: who speaks when, offline, with an automatic number of speakers.

The method is pyannote's (segmentation-3.0 with a clustering of local speakers), with CAM++ embeddings:

1. Segmentation. A 10 s window slides over the recording in steps of `step` seconds. In each window the
   segmentation network says, every ~17 ms, which of up to three *local* speakers talk, overlap included.
2. Embeddings. For each local speaker of each window, CAM++ embeds the fbank frames where that speaker
   talks alone (clean speech): one vector per (window, local speaker), a "unit".
3. Clustering (`clustering.py`). Units with enough clean speech are clustered with a distance threshold:
   the number of speakers follows from the threshold, not from a guess. Within a window, local speakers are
   different people, so units are matched to speakers one-to-one (Hungarian algorithm); a local speaker left
   over is a voice heard only over somebody else (a remark over testimony) and gets a voice of its own.
4. Reconstruction (`timeline.py`). Each window's local activity, relabelled with global speakers, is averaged
   over the overlapping windows; at every frame the `n` most active speakers speak, `n` being the averaged
   number of local speakers. Two people talking at once give two overlapping turns, and an `Overlap`.

Memory stays bounded on long meetings: windows are read from the decoded file a batch at a time
(archive.media.audio) and only their small outputs are kept (3 activity bytes per frame, one 192-d vector per
unit), never the recording's audio; what each batch freed goes back to the system (archive.media.memory).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import kaldi_native_fbank as knf
import numpy as np
import torch

from archive.media.audio import AudioSource, as_source
from archive.media.memory import release_freed_memory
from archive.speakers.clustering import assign_units, cluster_centroids
from archive.speakers.networks import EMBEDDING_MODEL, POWERSET, PyanNet, load_embedding, load_segmentation
from archive.speakers.timeline import Overlap, Turn, reconstruct
from archive.speakers.windows import (
    EMBEDDING_SIZE,
    FRAME_SIZE,
    FRAME_STEP,
    SAMPLE_RATE,
    WINDOW_SECONDS,
    LocalSpeakers,
)

__all__ = ["Diarization", "Diarizer", "LocalSpeakers", "Overlap", "Turn", "Voice"]

MIN_EMBED_SECONDS = 0.1  # below this a unit has no embedding and follows its window's other units


@dataclass(frozen=True)
class Voice:
    """One speaker found in a meeting: their mean embedding (L2-normalised) and their talk time."""

    embedding: np.ndarray
    speech_seconds: float


@dataclass
class Diarization:
    """A meeting's speakers: voices, and each recording's turns and overlaps (speaker = index into voices)."""

    voices: list[Voice]
    turns: list[list[Turn]] = field(default_factory=list)
    overlaps: list[list[Overlap]] = field(default_factory=list)
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

    def diarize(self, audio: AudioSource | np.ndarray) -> Diarization:
        started = time.perf_counter()
        result = self.cluster([self.local_speakers(audio)])
        result.processing_seconds = time.perf_counter() - started
        return result

    # --- 1 and 2: segmentation and embeddings, one recording at a time ----------------------------------

    def local_speakers(self, audio: AudioSource | np.ndarray) -> LocalSpeakers:
        torch.set_num_threads(self.threads)
        audio = as_source(audio)
        window = int(WINDOW_SECONDS * SAMPLE_RATE)
        step = int(self.step * SAMPLE_RATE)
        last = max(audio.num_samples - window, 0)
        starts = list(range(0, last + 1, step))
        if starts[-1] < last:
            starts.append(last)  # the end of the recording gets a window of its own
        # 0/1 per frame and local speaker, filled batch by batch: one byte each, not a float32 array per batch
        # concatenated at the end (4 times the size, held twice).
        activity = np.zeros((len(starts), PyanNet.num_frames(window), len(POWERSET[0])), dtype=np.uint8)
        units: list[tuple[int, int, float, np.ndarray]] = []
        for batch_start in range(0, len(starts), self.batch_size):
            batch_starts = starts[batch_start : batch_start + self.batch_size]
            chunks = np.zeros((len(batch_starts), 1, window), dtype=np.float32)
            span = audio.read(batch_starts[0], batch_starts[-1] + window)  # the batch's windows overlap: one read
            for row, start in enumerate(batch_starts):
                piece = span[start - batch_starts[0] : start - batch_starts[0] + window]
                chunks[row, 0, : len(piece)] = piece
            with torch.inference_mode():
                classes = self.segmentation(torch.from_numpy(chunks)).argmax(dim=-1)
            activity[batch_start : batch_start + len(batch_starts)] = POWERSET[classes].numpy()
            for row in range(len(batch_starts)):
                index = batch_start + row
                units.extend((index, *unit) for unit in self._embed_window(chunks[row, 0], activity[index]))
            release_freed_memory()  # the batch's activations, so that they do not pile up (archive.media.memory)
        return LocalSpeakers(
            num_samples=audio.num_samples,
            window_starts=np.array(starts, dtype=np.int64),
            activity=activity,
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
        # Windows numbered across the meeting; a gap between recordings, whose windows never overlap.
        offsets = np.cumsum([0] + [len(r.window_starts) + 1 for r in recordings])
        windows = np.concatenate([r.unit_window + o for r, o in zip(recordings, offsets, strict=False)] or [[]])
        labels, centroids = assign_units(recordings, cluster_centroids(embeddings, seconds, windows))
        timelines = [reconstruct(r, units, len(centroids)) for r, units in zip(recordings, labels, strict=True)]
        return _ordered(centroids, [t.turns for t in timelines], [t.overlaps for t in timelines])


def _ordered(centroids: np.ndarray, turns: list[list[Turn]], overlaps: list[list[Overlap]]) -> Diarization:
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
        overlaps=[
            [Overlap(o.start, o.end, tuple(sorted(new[s] for s in o.speakers if s in new))) for o in found]
            for found in overlaps
        ],
    )
