"""Untranscribed speech: where voice activity hears someone and the transcript has no words for it.

The archive exists for testimony a model may not understand: an English-only model writes nothing at all for
Spanish speech, or, primed by what came before, writes English that was never said. Neither may pass in
silence. Two checks, on each window:

- Holes: speech that no word covers. Word timings are approximate and voice activity pads its stretches, so
  each word covers WORD_SLACK seconds either side; what is left counts when it lasts MIN_GAP_SECONDS.
- Suspect text: a segment whose words the model itself doubts (mean word probability under
  SUSPECT_PROBABILITY), where a multilingual model hears a language the run was not told about.

A hole heard in one of the configured languages is transcribed once more on its own (archive.transcribe
.languages); what is still missing becomes a Gap that says what was heard and what to do. The figures behind
the thresholds are in the report of issue 19 and benchmarks/transcribe.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from archive.config import language_name
from archive.errors import ModelUnavailable
from archive.media.decode import SAMPLE_RATE
from archive.transcribe.activity import Stretch
from archive.transcribe.models import load_faster_whisper_model
from archive.transcribe.packages import MULTILINGUAL_MODEL
from archive.transcribe.transcript import Gap, TranscriptSegment

WORD_SLACK = 0.5
MIN_GAP_SECONDS = 1.0
MERGE_SECONDS = 0.25  # holes closer are one (a stretch cut at 30 s, a word in a hole); a turn's pause splits them
SUSPECT_PROBABILITY = 0.4
MIN_GUESS_SECONDS = 3.0  # below this the language heard is too unreliable to name
GUESS_THRESHOLD = 0.5  # faster-whisper's own bar for calling a language detected

# The most likely language of some audio and its probability, over all languages; None if it cannot tell.
Guess = Callable[[np.ndarray], tuple[str, float] | None]


def holes(stretches: list[Stretch], segments: list[TranscriptSegment]) -> list[Stretch]:
    """The parts of the speech stretches that no word (or wordless segment) covers, merged, long enough to count."""
    covered = sorted(
        (w.start - WORD_SLACK, w.end + WORD_SLACK)
        for s in segments
        for w in (s.words or [s])  # a segment without word timings covers its own span
    )
    found: list[Stretch] = []
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
    merged: list[Stretch] = []
    for hole in found:
        if merged and hole.start - merged[-1].end < MERGE_SECONDS:
            merged[-1] = Stretch(merged[-1].start, hole.end)
        else:
            merged.append(hole)
    return [h for h in merged if h.duration >= MIN_GAP_SECONDS]


def suspects(segments: list[TranscriptSegment]) -> list[Stretch]:
    """The spans of segments whose words the model doubts."""
    return [
        Stretch(s.start, s.end)
        for s in segments
        if s.words and sum(w.probability for w in s.words) / len(s.words) < SUSPECT_PROBABILITY
    ]


def window_gaps(
    audio: np.ndarray,
    stretches: list[Stretch],
    segments: list[TranscriptSegment],
    languages: tuple[str, ...],
    guess: Guess,
    offset: float,
) -> list[Gap]:
    """The gaps of one window (segments on the window's timeline), on the recording's timeline."""
    found = []
    for hole in holes(stretches, segments):
        heard = guess(hole.samples(audio))
        found.append(_gap(hole, heard, reason(heard[0] if heard else "", languages), offset))
    for span in suspects(segments):
        heard = guess(span.samples(audio))
        if heard and heard[0] not in languages:
            why = reason(heard[0], languages) + "; the text written here is not a transcription of it"
            found.append(_gap(span, heard, why.replace("speech not transcribed", "speech not understood"), offset))
    return sorted(found, key=lambda g: g.start)


def _gap(span: Stretch, heard: tuple[str, float] | None, why: str, offset: float) -> Gap:
    start, end = round(float(span.start + offset), 3), round(float(span.end + offset), 3)
    return Gap(start, end, why, heard[0] if heard else "")


def reason(language: str, languages: tuple[str, ...]) -> str:
    """Why the speech is missing and what to do, in one line."""
    if language and language not in languages:
        name = language_name(language)
        return f"speech not transcribed — {name}? re-run with --languages {','.join((*languages, language))}"
    if language:
        return f"speech not transcribed — the model wrote nothing for this {language_name(language)} speech"
    return "speech not transcribed — the model wrote nothing here"


def offline_guess(cache_dir: Path, threads: int) -> Guess:
    """Guesses by the packaged multilingual model (faster-whisper, whichever engine transcribes), loaded on the
    first gap only: an English-only archive whose meetings are in English never pays for it."""
    loaded: list[Any] = []
    heard: dict[bytes, tuple[str, float] | None] = {}  # the same hole is heard once (before and after a retry)

    def guess(samples: np.ndarray) -> tuple[str, float] | None:
        if len(samples) < MIN_GUESS_SECONDS * SAMPLE_RATE:
            return None
        if not loaded:
            try:
                loaded.append(load_faster_whisper_model(MULTILINGUAL_MODEL, None, cache_dir, threads))
            except ModelUnavailable:
                loaded.append(None)
        if loaded[0] is None:
            return None
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        key = hashlib.sha1(samples.tobytes()).digest()
        if key not in heard:
            # Padded to 30 s as Whisper was trained: more reliable than the stretch alone on a language no one
            # said to expect, and rare enough to afford a full encoder pass.
            language, probability, _ = loaded[0].detect_language(audio=samples)
            heard[key] = (language, round(float(probability), 4)) if probability >= GUESS_THRESHOLD else None
        return heard[key]

    return guess
