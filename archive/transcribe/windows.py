"""Long recordings are transcribed window by window, cut at quiet moments.

Both engines compute a spectrogram of whatever audio they are handed; on a 3-hour meeting that
costs gigabytes. Handing them windows of a few minutes, read from the decoded file one at a time
(archive.media.audio), keeps memory flat whatever the meeting's length, gives a progress bar
that moves, and lets a background job commit a meeting window by window (a Checkpoint), so a worker that
is killed resumes at the first window it had not committed. The cuts depend only on the audio, so a resumed
run cuts the same windows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from archive.media.audio import SAMPLE_RATE, AudioSource, as_source
from archive.media.memory import release_freed_memory
from archive.transcribe import activity, gaps
from archive.transcribe.glossary import HOTWORDS, Glossary
from archive.transcribe.languages import MIN_IDENTIFY_SECONDS, transcribe_window
from archive.transcribe.transcript import (
    Check,
    Engine,
    Gap,
    Progress,
    Transcript,
    TranscriptSegment,
    Word,
    most_common_language,
    spoken_languages,
)

FRAME = SAMPLE_RATE // 10  # 100 ms frames for loudness
SEARCH_SECONDS = 20  # look this far back from a window's end for the quietest moment
SILENCE_RMS = 1e-3  # about -60 dBFS: below this throughout, a window holds no speech
PROMPT_CHARACTERS = 200  # the end of a language's latest text primes its next stretch, as Whisper does in a file
# Temperature 0 first, so decoding is deterministic; higher ones only when a window fails Whisper's checks.
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


class Checkpoint(Protocol):
    """Where a resumable transcription keeps the windows it has finished (see archive.worker.jobs)."""

    def done(self) -> dict[int, list[TranscriptSegment]]:
        """The windows finished by earlier attempts, by number, their segments on the recording's timeline."""
        ...

    def save(self, window: int, segments: list[TranscriptSegment]) -> None:
        """Keep a finished window durably before the next one starts."""
        ...


def split_points(audio: AudioSource | np.ndarray, window_seconds: float) -> list[int]:
    """Sample offsets where windows start; each cut falls on the quietest 100 ms near the window's end (only
    those SEARCH_SECONDS are read to find it)."""
    audio = as_source(audio)
    window = int(window_seconds * SAMPLE_RATE)
    search = min(SEARCH_SECONDS * SAMPLE_RATE, window // 4)
    starts = [0]
    while audio.num_samples - starts[-1] > window * 1.1:  # no tiny last window
        end = starts[-1] + window
        region = audio.read(end - search, end)
        loudness = _frame_rms(region)
        starts.append(end - search + int(np.argmin(loudness)) * FRAME)
    return starts


def windows(audio: AudioSource | np.ndarray, window_seconds: float) -> Iterator[tuple[float, np.ndarray]]:
    """(offset in seconds, samples) for each window, read when its turn comes: one window in memory at a time."""
    audio = as_source(audio)
    starts = split_points(audio, window_seconds)
    for start, stop in zip(starts, starts[1:] + [audio.num_samples], strict=True):
        yield start / SAMPLE_RATE, audio.read(start, stop)


def transcribe_windows(
    audio: AudioSource | np.ndarray,
    engine: Engine,
    on_progress: Progress | None = None,
    checkpoint: Checkpoint | None = None,
) -> tuple[list[TranscriptSegment], list[Gap]]:
    """Every window in turn, unguided (see guided_windows)."""
    run = guided_windows(audio, engine, on_progress, checkpoint)
    return run.segments, run.gaps


@dataclass
class Run:
    """What the window loop found: segments and gaps on the recording's timeline, the guard's checks, and the
    exact prompt (per language) and hotwords each window was decoded with."""

    segments: list[TranscriptSegment] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    prompts: list[dict[str, Any]] = field(default_factory=list)


def guided_windows(
    audio: AudioSource | np.ndarray,
    engine: Engine,
    on_progress: Progress | None = None,
    checkpoint: Checkpoint | None = None,
    glossary: Glossary | None = None,
) -> Run:
    """Every window in turn: its speech found, each stretch's language decided, transcribed (guided by the
    glossary, if any, and checked by the guard), and the speech that no word covers recorded as gaps. Windows a
    checkpoint holds are not transcribed again; their gaps are found again from the audio, the same way.
    Voice activity, language identification and gaps work on the window's samples only."""
    audio = as_source(audio)
    duration = audio.num_samples / SAMPLE_RATE
    run = Run()
    earlier: dict[str, str] = {}
    finished = checkpoint.done() if checkpoint else {}
    guiding = glossary is not None and bool(glossary.terms)
    hotwords = glossary.text if glossary is not None and guiding and glossary.mode == HOTWORDS else ""
    for number, (offset, samples) in enumerate(windows(audio, engine.window_seconds)):
        silent = is_silent(samples)
        stretches = [] if silent else activity.speech_stretches(samples)
        found: list[TranscriptSegment]
        if number in finished:
            found = finished[number]
        elif silent:
            found = []
        else:

            def report(done: float, offset: float = offset) -> None:
                if on_progress:
                    on_progress(min(offset + done, duration), duration)

            prompts = dict(earlier)
            if glossary is not None and guiding and not hotwords:
                prompts = {code: f"{glossary.text} {earlier.get(code, '')}".strip() for code in engine.languages}
            if guiding:
                run.prompts.append({"start": round(offset, 3), "prompts": prompts, "hotwords": hotwords})
            decoded, checks = transcribe_window(
                samples, stretches, engine, prompts, report, hotwords=hotwords, guided=guiding
            )
            found = [_shift(s, offset) for s in decoded]
            run.checks += [replace(c, start=round(c.start + offset, 3), end=round(c.end + offset, 3)) for c in checks]
        if checkpoint and number not in finished:
            checkpoint.save(number, found)
        run.segments.extend(found)
        here = [_shift(s, -offset) for s in found]
        run.gaps += gaps.window_gaps(samples, stretches, here, engine.languages, engine.guess, offset)
        for language in dict.fromkeys(s.language for s in found):
            earlier[language] = " ".join(s.text for s in found if s.language == language)[-PROMPT_CHARACTERS:]
        if on_progress:
            on_progress(offset + len(samples) / SAMPLE_RATE, duration)
        release_freed_memory()  # the window's audio and spectrogram (archive.media.memory)
    return run


def is_silent(samples: np.ndarray) -> bool:
    return len(samples) == 0 or float(_frame_rms(samples).max(initial=0.0)) < SILENCE_RMS


def _frame_rms(samples: np.ndarray) -> np.ndarray:
    usable = len(samples) // FRAME * FRAME
    if usable == 0:
        return np.sqrt(np.mean(np.square(samples, dtype=np.float64), keepdims=True)) if len(samples) else np.zeros(1)
    frames = samples[:usable].reshape(-1, FRAME).astype(np.float64)
    return np.sqrt(np.mean(frames * frames, axis=1))


def _shift(segment: TranscriptSegment, offset: float) -> TranscriptSegment:
    if offset == 0:
        return segment
    words = tuple(_shift_word(w, offset) for w in segment.words)
    return replace(segment, start=round(segment.start + offset, 3), end=round(segment.end + offset, 3), words=words)


def _shift_word(word: Word, offset: float) -> Word:
    return replace(word, start=round(word.start + offset, 3), end=round(word.end + offset, 3))


def decoding_parameters(
    *, model_path: str | None, languages: tuple[str, ...], threads: int, beam_size: int, window_seconds: int
) -> dict[str, object]:
    """What both engines record with a run: enough to say how a transcript was made."""
    return {
        "model_path": model_path,
        "languages": list(languages),
        "threads": threads,
        "beam_size": beam_size,
        "best_of": beam_size,
        "temperature": list(TEMPERATURES),
        "condition_on_previous_text": True,
        "word_timestamps": True,
        "window_seconds": window_seconds,
        "voice_activity": {
            "model": "silero_vad_v6 (faster-whisper)",
            "threshold": activity.THRESHOLD,
            "min_silence_ms": activity.MIN_SILENCE_MS,
            "pad_ms": activity.PAD_MS,
        },
        "language_identification": {"min_seconds": MIN_IDENTIFY_SECONDS} if len(languages) > 1 else None,
        "gaps": {"word_slack_seconds": gaps.WORD_SLACK, "min_seconds": gaps.MIN_GAP_SECONDS},
    }


def windowed_transcript(
    transcriber: Any,
    engine_version: str,
    audio: AudioSource | np.ndarray,
    on_progress: Progress | None,
    checkpoint: Checkpoint | None = None,
    glossary: Glossary | None = None,
) -> Transcript:
    """Run an engine over the recording window by window and assemble the Transcript."""
    began = time.perf_counter()
    audio = as_source(audio)
    run = guided_windows(audio, transcriber, on_progress, checkpoint, glossary)
    segments = run.segments
    guidance = glossary.record() | {"windows": run.prompts} if glossary is not None and glossary.terms else {}
    return Transcript(
        engine=transcriber.engine,
        model=transcriber.model,
        engine_version=engine_version,
        language=most_common_language(segments) or transcriber.languages[0],
        duration=round(audio.num_samples / SAMPLE_RATE, 3),
        segments=tuple(segments),
        parameters=transcriber.parameters,
        processing_seconds=round(time.perf_counter() - began, 3),
        languages=spoken_languages(segments),
        gaps=tuple(run.gaps),
        guidance=guidance,
        checks=tuple(run.checks),
    )
