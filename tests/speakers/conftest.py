"""Voices with synthetic embeddings (unit vectors whose cosine with the first axis is the score we want), and
the synthetic overlap fixture built once per session."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import Meeting, Speaker
from archive.speakers.voices import to_bytes
from tests.conftest import FIXTURES

MODEL = "test-embedder"


def unit(similarity: float, axis: int = 1) -> np.ndarray:
    """A unit vector whose cosine with (1, 0, 0, 0) is `similarity`; `axis` picks the other direction."""
    vector = np.zeros(4, dtype=np.float32)
    vector[0] = similarity
    vector[axis] = math.sqrt(max(0.0, 1.0 - similarity**2))
    return vector


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


@pytest.fixture(scope="session")
def hotmic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The founding case re-created (tests/fixtures/hotmic): mixes, tracks and a two-channel file, with truth."""
    folder = tmp_path_factory.mktemp("hotmic")
    # In a process of its own: espeak-ng's library carries a little state from one utterance to the next, so a
    # recipe is repeatable as a fresh run, whatever else this process synthesised before.
    subprocess.run([sys.executable, str(FIXTURES / "hotmic" / "make_hotmic.py"), str(folder)], check=True)
    return folder
