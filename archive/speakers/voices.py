"""Voice prints: a person's mean speaker embedding, and matching a new meeting's voices against them.

Embeddings are L2-normalised float32 vectors stored as bytes; similarity is their cosine (a dot product).
A voice print is built only from attributions people made (self-identified, named by the chair, a
curator's judgement), never from voice matches, so one wrong automatic match cannot pull a print towards
somebody else's voice. Voice prints are personal data: nothing here is shown on a public surface.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db.models import Person, Speaker, VoicePrint

HUMAN_METHODS = ("self-identified", "named-by-chair", "curator")

# Cosine similarity between a meeting's voice and a voice print. Measured (docs/benchmarks.md, "Diarization"): the same
# voice in two halves of a recording scores well above these, different voices well below.
# A match is only ever a suggestion to a curator: nothing about a person goes public on a machine's guess (a
# farmworker's testimony was once published as the council chair's on a similarity of 0.81).
SUGGEST_THRESHOLD = 0.50  # shown to a curator as "probably …", with the score, to confirm or reject


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4")


def normalised(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def mean_voice(voices: list[tuple[np.ndarray, float]]) -> np.ndarray:
    """The speech-time-weighted mean of (embedding, seconds) pairs, normalised."""
    total = sum(seconds for _, seconds in voices)
    weighted = [embedding * (seconds / total) for embedding, seconds in voices]
    return normalised(sum(weighted[1:], start=weighted[0]))


def refresh_voice_print(session: Session, person: Person) -> VoicePrint | None:
    """Rebuild `person`'s voice print from the voices people attributed to them; delete it if none remain
    or their consent does not allow one."""
    speakers = session.scalars(
        select(Speaker).where(
            Speaker.person_id == person.id,
            Speaker.attribution.in_(HUMAN_METHODS),
            Speaker.embedding.is_not(None),
            Speaker.speech_seconds > 0,
        )
    ).all()
    existing = session.scalars(select(VoicePrint).where(VoicePrint.person_id == person.id)).one_or_none()
    if not person.voice_matching_allowed or not speakers:
        if existing is not None:
            session.delete(existing)
        return None
    models = {s.embedding_model for s in speakers if s.embedding_model}
    model = sorted(models)[-1]  # one model in practice; if it ever changes, the newest name wins
    voices = [
        (from_bytes(s.embedding), s.speech_seconds) for s in speakers if s.embedding and s.embedding_model == model
    ]
    vector = mean_voice(voices)
    voice_print = existing or VoicePrint(person_id=person.id)
    voice_print.model = model
    voice_print.embedding = to_bytes(vector)
    voice_print.speech_seconds = sum(seconds for _, seconds in voices)
    voice_print.meetings = len({s.meeting_id for s in speakers if s.embedding_model == model})
    session.add(voice_print)
    return voice_print


@dataclass(frozen=True)
class VoiceMatch:
    person_id: int
    score: float


def best_matches(session: Session, speakers: list[Speaker]) -> dict[int, VoiceMatch]:
    """For each speaker with an embedding, the most similar known voice print (speaker id → match).

    Only people whose consent allows matching have prints. Two speakers of one meeting are never matched to
    the same person: the higher score keeps the person.
    """
    prints = session.scalars(select(VoicePrint).join(Person).where(Person.consent == "public")).all()
    candidates: list[tuple[float, int, int]] = []
    for speaker in speakers:
        if speaker.embedding is None:
            continue
        voice = from_bytes(speaker.embedding)
        for voice_print in prints:
            if voice_print.model == speaker.embedding_model:
                score = float(np.dot(voice, from_bytes(voice_print.embedding)))
                candidates.append((score, speaker.id, voice_print.person_id))
    matches: dict[int, VoiceMatch] = {}
    taken: set[int] = set()
    for score, speaker_id, person_id in sorted(candidates, reverse=True):
        if speaker_id not in matches and person_id not in taken:
            matches[speaker_id] = VoiceMatch(person_id, score)
            taken.add(person_id)
    return matches
