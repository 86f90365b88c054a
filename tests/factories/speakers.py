"""Voices for tests: unit vectors with a chosen similarity."""

from __future__ import annotations

import math

import numpy as np


def unit(similarity: float, axis: int = 1) -> np.ndarray:
    """A unit vector whose cosine with (1, 0, 0, 0) is `similarity`; `axis` picks the other direction."""
    vector = np.zeros(4, dtype=np.float32)
    vector[0] = similarity
    vector[axis] = math.sqrt(max(0.0, 1.0 - similarity**2))
    return vector
