"""Voices with synthetic embeddings: unit vectors whose cosine with the first axis is the score we want."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import Meeting, Speaker
from archive.speakers.voices import to_bytes

MODEL = "test-embedder"


@pytest.fixture
def give_voice(sessions: sessionmaker[Session]) -> Callable[..., None]:
    """Set a speaker's embedding, speech time and turns, as diarization would."""

    def give(
        slug: str,
        label: str,
        vector: np.ndarray,
        *,
        seconds: float = 30.0,
        turns: list[list[float]] | None = None,
    ) -> None:
        with sessions() as session, session.begin():
            speaker = session.scalars(
                select(Speaker).join(Meeting).where(Meeting.slug == slug, Speaker.label == label)
            ).one()
            speaker.embedding = to_bytes(vector)
            speaker.embedding_model = MODEL
            speaker.speech_seconds = seconds
            speaker.turns = turns or []

    return give
