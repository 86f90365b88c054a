"""Untranscribed speech: where voice activity hears someone and no transcribed word covers it.

A gap is recorded, never silently dropped: the archive exists for testimony that a model may not understand
(an English-only model on Spanish speech writes nothing at all). Word timestamps are approximate and voice
activity pads its stretches, so each word covers WORD_SLACK seconds either side; what is left uncovered counts
as a gap when it lasts at least MIN_GAP_SECONDS (the figures behind both are in benchmarks/transcribe.py's
gap report and the report of issue 19).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from archive.errors import ModelUnavailable
from archive.media.decode import SAMPLE_RATE
from archive.transcribe.activity import Stretch
from archive.transcribe.models import load_faster_whisper_model
from archive.transcribe.packages import MULTILINGUAL_MODEL
from archive.transcribe.transcript import Gap, TranscriptSegment

WORD_SLACK = 0.5
MIN_GAP_SECONDS = 2.0

# The most likely language of some audio and its probability, over all languages; None if no model can tell.
Guess = Callable[[np.ndarray], tuple[str, float] | None]


def uncovered(stretches: list[Stretch], segments: list[TranscriptSegment]) -> list[Stretch]:
    """The parts of the speech stretches that no word (or wordless segment) covers, at least MIN_GAP_SECONDS long."""
    covered = sorted(
        (w.start - WORD_SLACK, w.end + WORD_SLACK)
        for s in segments
        for w in (s.words or [s])  # a segment without word timings covers its own span
    )
    found = []
    for stretch in stretches:
        cursor = stretch.start
        for start, end in covered:
            if end <= cursor or start >= stretch.end:
                continue
            if start > cursor:
                found.append(Stretch(cursor, start))
            cursor = max(cursor, end)
        if cursor < stretch.end:
            found.append(Stretch(cursor, stretch.end))
    return [s for s in found if s.duration >= MIN_GAP_SECONDS - 1e-9]


def describe(
    audio: np.ndarray, holes: list[Stretch], languages: tuple[str, ...], guess: Guess | None, offset: float = 0.0
) -> list[Gap]:
    """A Gap for each hole, saying what the model heard there when it can tell (times shifted by `offset`)."""
    gaps = []
    for hole in holes:
        heard = guess(hole.samples(audio)) if guess else None
        language = heard[0] if heard else ""
        gaps.append(
            Gap(round(hole.start + offset, 3), round(hole.end + offset, 3), reason(language, languages), language)
        )
    return gaps


def reason(language: str, languages: tuple[str, ...]) -> str:
    """Why the speech is missing and what to do, in one line."""
    if language and language not in languages:
        name = language_name(language)
        return f"speech not transcribed — {name}? re-run with --languages {','.join((*languages, language))}"
    if language:
        return f"speech not transcribed — the model wrote nothing for this {language_name(language)} speech"
    return "speech not transcribed — the model wrote nothing here"


def language_name(code: str) -> str:
    from whisper.tokenizer import LANGUAGES

    return LANGUAGES.get(code, code).title()


def offline_guess(cache_dir: Path, threads: int) -> Guess:
    """Guesses by the packaged multilingual model (faster-whisper, whichever engine transcribes), loaded on the
    first gap only: an English-only archive whose meetings are in English never pays for it."""
    loaded: list[Any] = []

    def guess(samples: np.ndarray) -> tuple[str, float] | None:
        if not loaded:
            try:
                loaded.append(load_faster_whisper_model(MULTILINGUAL_MODEL, None, cache_dir, threads))
            except ModelUnavailable:
                loaded.append(None)
        if loaded[0] is None or len(samples) < SAMPLE_RATE // 2:
            return None
        # Padded to 30 s as Whisper was trained: more reliable than the stretch alone on a language it may not
        # be told to expect, and a gap is rare enough for a full encoder pass.
        language, probability, _ = loaded[0].detect_language(audio=np.ascontiguousarray(samples, dtype=np.float32))
        return language, round(float(probability), 4)

    return guess
