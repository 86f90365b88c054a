"""What diarization's first pass finds window by window: local speakers' activity and their embeddings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archive.speakers.networks import PyanNet

SAMPLE_RATE = 16_000
WINDOW_SECONDS = 10.0  # what segmentation-3.0 was trained on
FRAME_STEP = PyanNet.frame_step()  # samples
FRAME_SIZE = PyanNet.frame_size()
EMBEDDING_SIZE = 192


@dataclass
class LocalSpeakers:
    """What segmentation and embedding found in one recording, before clustering across the meeting."""

    num_samples: int
    window_starts: np.ndarray  # (windows,) sample offsets
    activity: np.ndarray  # (windows, frames, 3) uint8 0/1: local speaker k talks in frame i of window w
    unit_window: np.ndarray  # (units,) which window
    unit_local: np.ndarray  # (units,) which local speaker
    unit_seconds: np.ndarray  # (units,) clean speech the embedding saw
    unit_embeddings: np.ndarray  # (units, 192), L2-normalised; zeros when the unit had too little speech
