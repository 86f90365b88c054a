"""Voices for tests: unit vectors with a chosen similarity, set on a meeting's speaker as diarization would."""

from __future__ import annotations

import math

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import Meeting, Speaker
from archive.speakers.voices import to_bytes

MODEL = "test-embedder"


def unit(similarity: float, axis: int = 1) -> np.ndarray:
    """A unit vector whose cosine with (1, 0, 0, 0) is `similarity`; `axis` picks the other direction."""
    vector = np.zeros(4, dtype=np.float32)
    vector[0] = similarity
    vector[axis] = math.sqrt(max(0.0, 1.0 - similarity**2))
    return vector


def set_voice(
    sessions: sessionmaker[Session],
    slug: str,
    label: str,
    vector: np.ndarray,
    *,
    seconds: float = 30.0,
    turns: list[list[float]] | None = None,
) -> None:
    """Set a speaker's embedding, speech time and turns, as diarization would."""
    with sessions() as session, session.begin():
        speaker = session.scalars(
            select(Speaker).join(Meeting).where(Meeting.slug == slug, Speaker.label == label)
        ).one()
        speaker.embedding = to_bytes(vector)
        speaker.embedding_model = MODEL
        speaker.speech_seconds = seconds
        speaker.turns = turns or []
