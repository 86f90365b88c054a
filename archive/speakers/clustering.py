"""The meeting's speakers from its units (one embedding per local speaker per window): how many, and who is who.

1. Units with enough clean speech are clustered by agglomerative clustering (average linkage on cosine
   distance) with a distance threshold: the number of speakers follows from the threshold, not a guess.
2. A cluster becomes a speaker if it has enough clean speech and at least one window heard it alone for a
   while; the others are fragments of voices (the end of a turn under the next one, a cough) whose units go
   to the nearest speaker in step 3.
3. Re-clustering over the whole meeting. Units are assigned to the nearest speaker and the centroids
   recomputed until they settle (k-means on the sphere, from the clusters of step 1), then speakers whose
   centroids are nearly the same voice are merged. Average linkage alone over-splits long meetings: with
   hundreds of units per voice its threshold both splits a voice into sub-clusters and, a little higher,
   joins two similar voices; centroids of many units are much steadier than units.
   Then a speaker whose centroid is a blend of two others' (two people talking at once) is folded into them,
   and so is one that no two overlapping windows both heard (see `_confirmed`).
4. Within a window local speakers are different people, so units are matched to the speakers one-to-one
   (Hungarian algorithm). A local speaker left over (a window holds more voices than the meeting has found)
   is somebody heard only over somebody else, e.g. a remark said over testimony: such units get a voice of
   their own rather than being folded into the person they talked over.

Thresholds and their evidence: docs/speakers.md and docs/benchmarks.md (benchmarks/diarize.py --council measures them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment, nnls

from archive.speakers.windows import EMBEDDING_SIZE, LocalSpeakers

CLUSTER_THRESHOLD = 0.375  # cosine distance at which average-linkage clustering stops merging
MIN_CLUSTER_SECONDS = 1.0  # clean speech a unit needs to take part in clustering
MIN_SPEAKER_SECONDS = 2.0  # clean speech a cluster needs to be a speaker…
MIN_ALONE_SECONDS = 2.0  # …and the clean speech of its longest unit (one window heard it alone this long)
MERGE_SIMILARITY = 0.8  # speakers whose centroids are at least this similar are one voice
MIXTURE_FIT = 0.85  # a speaker whose centroid two others explain this well (cosine) is those two talking at once
MIN_CONFIRMATIONS = 1  # pairs of overlapping windows (consecutive ones) that both heard a speaker
REFINE_ROUNDS = 5


def cluster_centroids(embeddings: np.ndarray, seconds: np.ndarray, windows: np.ndarray | None = None) -> np.ndarray:
    """The speakers' centroids (speakers, 192), L2-normalised, from the units with enough clean speech.
    `windows`: each unit's window, numbered across the meeting so that two numbers differ by one only where
    the windows overlap in time (None: every unit's window its own, confirmed by none)."""
    usable = (seconds >= MIN_CLUSTER_SECONDS) & (np.abs(embeddings).sum(axis=1) > 0)
    vectors, weights = embeddings[usable], seconds[usable]
    if len(vectors) == 0:
        return np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
    labels = _agglomerate(vectors, CLUSTER_THRESHOLD)
    clusters = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    speakers = [
        c for c in clusters if weights[c].sum() >= MIN_SPEAKER_SECONDS and weights[c].max() >= MIN_ALONE_SECONDS
    ] or [max(clusters, key=lambda c: weights[c].sum())]
    centroids = _refined(vectors, weights, np.stack([weighted_mean(vectors[c], weights[c]) for c in speakers]))
    centroids = _merged(vectors, weights, centroids)
    centroids = _without_blends(vectors, weights, centroids)
    if windows is not None:
        centroids = _confirmed(vectors, weights, windows[usable], centroids)
    return centroids.astype(np.float32)


def _confirmed(vectors: np.ndarray, weights: np.ndarray, windows: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Speakers that no two overlapping windows both heard dropped, the least heard first, their units going to
    the others. Windows are 10 s long every 5 s (any step under 10 s), so every moment is in two of them: a
    person who spoke for a while (a remark of a few seconds included) is heard by both, in each with the clean
    speech a unit needs to be clustered. A speaker whose units all come from windows apart from each other is
    the misreading of single windows: on the council hour, two people talking at once that the segmentation
    took for one voice (seed 3's two extra voices, seed 4's one: docs/speakers.md). Real voices there were
    confirmed at least twice. As with blends, a meeting's last two voices are always kept."""
    while len(centroids) > 2:
        nearest = np.argmax(vectors @ centroids.T, axis=1)
        confirmations = np.array([_overlapping_pairs(windows[nearest == k]) for k in range(len(centroids))])
        least = int(np.argmin(confirmations))
        if confirmations[least] >= MIN_CONFIRMATIONS:
            break
        centroids = _refined(vectors, weights, np.delete(centroids, least, axis=0), rounds=2)
    return centroids


def _overlapping_pairs(windows: np.ndarray) -> int:
    """How many pairs of consecutive (overlapping) windows are among these."""
    heard = np.unique(windows)
    return int(np.sum(np.diff(heard) == 1))


def _without_blends(vectors: np.ndarray, weights: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The speaker whose centroid is best explained by a mix of two others (cosine ≥ MIXTURE_FIT) dropped, its
    units going to the others, until none is: the embeddings of two people talking at once (a member starting
    before the chair has finished). On the council hour such a blend of the chair and a member came out as a
    voice of its own at 0.88; real voices fit at most 0.80 (docs/speakers.md)."""
    while len(centroids) > 2:
        fits = np.array([_mixture_fit(centroids, k) for k in range(len(centroids))])
        worst = int(np.argmax(fits))
        if fits[worst] < MIXTURE_FIT:
            break
        centroids = _refined(vectors, weights, np.delete(centroids, worst, axis=0), rounds=2)
    return centroids


def _mixture_fit(centroids: np.ndarray, k: int) -> float:
    """How well (cosine) the best non-negative combination of two other centroids explains centroid k."""
    best = 0.0
    others = [i for i in range(len(centroids)) if i != k]
    for position, i in enumerate(others):
        for j in others[position + 1 :]:
            pair = centroids[[i, j]].T
            mix, _ = nnls(pair.astype(np.float64), centroids[k].astype(np.float64))
            fitted = pair @ mix
            best = max(best, float(fitted @ centroids[k]) / max(float(np.linalg.norm(fitted)), 1e-9))
    return best


def _refined(
    vectors: np.ndarray, weights: np.ndarray, centroids: np.ndarray, rounds: int = REFINE_ROUNDS
) -> np.ndarray:
    """Each unit to its nearest centroid, centroids recomputed, `rounds` times (a centroid left without
    units is dropped)."""
    for _ in range(rounds):
        nearest = np.argmax(vectors @ centroids.T, axis=1)
        centroids = np.stack([weighted_mean(vectors[nearest == k], weights[nearest == k]) for k in np.unique(nearest)])
    return centroids


def _merged(vectors: np.ndarray, weights: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The two most similar speakers merged, and the rest refined, while any two are MERGE_SIMILARITY alike."""
    while len(centroids) > 1:
        similarity = centroids @ centroids.T
        np.fill_diagonal(similarity, -2.0)
        i, j = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
        if similarity[i, j] < MERGE_SIMILARITY:
            break
        nearest = np.argmax(vectors @ centroids.T, axis=1)
        both = (nearest == i) | (nearest == j)
        rest = centroids[[k for k in range(len(centroids)) if k not in (i, j)]]
        if both.any():
            rest = np.concatenate([rest, weighted_mean(vectors[both], weights[both])[None]])
        centroids = _refined(vectors, weights, rest, rounds=2)
    return centroids


def _agglomerate(vectors: np.ndarray, threshold: float) -> np.ndarray:
    if len(vectors) == 1:
        return np.zeros(1, dtype=int)
    return fcluster(linkage(vectors, method="average", metric="cosine"), t=threshold, criterion="distance") - 1


def weighted_mean(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    mean = (vectors * weights[:, None]).sum(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-9)


def assign_units(recordings: Sequence[LocalSpeakers], centroids: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """A speaker for every unit of every recording, and the centroids with any voices heard only over others
    added at the end. A unit without an embedding takes the speaker nobody else in its window has."""
    all_labels = [np.full(len(r.unit_window), -1, dtype=np.int64) for r in recordings]
    if len(centroids) == 0:
        return all_labels, centroids
    leftovers: list[tuple[int, int]] = []  # (recording, unit)
    for position, (recording, labels) in enumerate(zip(recordings, all_labels, strict=True)):
        similarity = recording.unit_embeddings @ centroids.T  # zeros for units without an embedding
        for window in np.unique(recording.unit_window):
            members = np.flatnonzero(recording.unit_window == window)
            rows, columns = linear_sum_assignment(-similarity[members])
            labels[members[rows]] = columns
            leftovers += [(position, int(m)) for m in members if labels[m] < 0]
    if not leftovers:
        return all_labels, centroids
    # More local speakers than speakers: voices heard over somebody else, clustered among themselves. A unit with
    # too little speech for an embedding (under 0.1 s) stays without a speaker.
    leftovers = [(p, u) for p, u in leftovers if np.abs(recordings[p].unit_embeddings[u]).sum() > 0]
    if not leftovers:
        return all_labels, centroids
    vectors = np.stack([recordings[p].unit_embeddings[u] for p, u in leftovers])
    weights = np.array([max(recordings[p].unit_seconds[u], 0.01) for p, u in leftovers])
    groups = _agglomerate(vectors, CLUSTER_THRESHOLD)
    extra = [weighted_mean(vectors[groups == g], weights[groups == g]) for g in range(groups.max() + 1)]
    for (position, unit), group in zip(leftovers, groups, strict=True):
        all_labels[position][unit] = len(centroids) + int(group)
    return all_labels, np.concatenate([centroids, np.stack(extra).astype(np.float32)])
