"""Cutting long recordings into windows at quiet moments, and the window loop around an engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from archive.config import Settings
from archive.media.decode import SAMPLE_RATE
from archive.transcribe import make_transcriber
from archive.transcribe.transcript import TranscriptSegment, Word
from archive.transcribe.windows import is_silent, split_points, transcribe_windows, windows
from tests.factories.media import mostly_silent, speech


def test_a_short_recording_is_one_window() -> None:
    assert split_points(np.zeros(SAMPLE_RATE * 40, np.float32), 300) == [0]


def test_cuts_fall_in_the_pause_between_utterances() -> None:
    jfk = speech()
    pause = np.zeros(SAMPLE_RATE * 2, np.float32)
    audio = np.concatenate([jfk] * 5 + [pause] + [jfk] * 5)  # 55 s of speech, a 2 s pause, 55 s of speech
    starts = split_points(audio, 60)
    assert len(starts) == 2
    assert 55 * SAMPLE_RATE <= starts[1] <= 57 * SAMPLE_RATE


def test_windows_cover_every_sample_once() -> None:
    audio = np.random.default_rng(1).normal(0, 0.1, SAMPLE_RATE * 200).astype(np.float32)
    parts = list(windows(audio, 45))
    assert len(parts) >= 4
    assert sum(len(samples) for _, samples in parts) == len(audio)
    starts = split_points(audio, 45)
    assert all(abs(offset * SAMPLE_RATE - start) < 1 for (offset, _), start in zip(parts, starts, strict=True))


class Recorder:
    """An engine that writes one segment per call and records what it was asked (the loop is under test)."""

    window_seconds = 40
    languages = ("en",)

    def __init__(self) -> None:
        self.calls: list[tuple[int, str, str]] = []

    def decode(
        self, samples: np.ndarray, language: str, prompt: str, report: Callable[[float], None]
    ) -> list[TranscriptSegment]:
        self.calls.append((len(samples), language, prompt))
        report(len(samples) / SAMPLE_RATE)
        word = Word(" hello", 1.0, 1.5, 0.9)
        return [TranscriptSegment(1.0, 2.0, f"hello {len(self.calls)}", (word,), -0.1, 0.01, language)]

    def identify(self, samples: np.ndarray) -> dict[str, float]:
        raise AssertionError("one language configured: nothing to identify")

    def guess(self, samples: np.ndarray) -> tuple[str, float] | None:
        return None


def test_segments_are_shifted_to_the_recording_timeline_and_silence_is_skipped() -> None:
    speechy = np.random.default_rng(2).normal(0, 0.1, SAMPLE_RATE * 30).astype(np.float32)
    audio = np.concatenate([speechy, np.zeros(SAMPLE_RATE * 50, np.float32), speechy])
    parts = list(windows(audio, 40))
    assert [is_silent(samples) for _, samples in parts] == [False, True, False, False]
    engine = Recorder()
    progress: list[float] = []

    segments, _ = transcribe_windows(audio, engine, lambda done, total: progress.append(done))
    assert len(engine.calls) == 3  # the silent window never reaches the engine
    assert engine.calls[0][0] == len(parts[0][1])  # one language: the whole window in one pass
    assert engine.calls[1][2] == "hello 1"  # the previous window's text primes the next
    assert segments[1].start == parts[2][0] + 1.0
    assert segments[1].words[0].start == segments[1].start
    assert segments[1].words[0].word == "hello"  # the engine's spacing is gone
    assert (segments[1].language, segments[1].language_source, segments[1].language_probability) == (
        "en",
        "configured",
        None,
    )
    assert progress[-1] == len(audio) / SAMPLE_RATE
    assert progress == sorted(progress)


def test_digital_silence_is_silent_and_speech_is_not() -> None:
    assert is_silent(np.zeros(SAMPLE_RATE * 60, np.float32))
    assert not is_silent(speech())


class TwoLanguages(Recorder):
    """Hears Spanish in stretches over 6 s and writes words over the first half of what it is given only, so that
    every window has languages to decide and holes to report."""

    window_seconds = 30
    languages = ("en", "es")

    def decode(
        self, samples: np.ndarray, language: str, prompt: str, report: Callable[[float], None]
    ) -> list[TranscriptSegment]:
        self.calls.append((len(samples), language, prompt))
        half = round(len(samples) / SAMPLE_RATE / 2, 3)
        words = (Word(" uno" if language == "es" else " one", 0.0, half, 0.9),)
        return [TranscriptSegment(0.0, half, f"{language} {len(samples)}", words, -0.2, 0.01, language)]

    def identify(self, samples: np.ndarray) -> dict[str, float]:
        return {"es": 0.8, "en": 0.2} if len(samples) > 6 * SAMPLE_RATE else {"en": 0.7, "es": 0.3}

    def guess(self, samples: np.ndarray) -> tuple[str, float] | None:
        return ("fr", 0.9)


class MemoryCheckpoint:
    def __init__(self, kill_after: int | None = None) -> None:
        self.saved: dict[int, list[TranscriptSegment]] = {}
        self.kill_after = kill_after

    def done(self) -> dict[int, list[TranscriptSegment]]:
        return dict(self.saved)

    def save(self, window: int, segments: list[TranscriptSegment]) -> None:
        self.saved[window] = segments
        if window == self.kill_after:
            raise KeyboardInterrupt("the worker is killed")


def test_a_resumed_run_gives_the_same_segments_languages_and_gaps() -> None:
    pause = np.zeros(SAMPLE_RATE * 2, np.float32)
    audio = np.concatenate([speech(), pause, speech("spanish/testimony-es.ogg")[: 40 * SAMPLE_RATE], pause, speech()])
    uninterrupted = TwoLanguages()
    whole, whole_gaps = transcribe_windows(audio, uninterrupted)
    assert {s.language for s in whole} == {"en", "es"} and whole_gaps
    assert {s.language_source for s in whole} == {"detected", "neighbour"}

    checkpoint = MemoryCheckpoint(kill_after=0)
    with pytest.raises(KeyboardInterrupt):
        transcribe_windows(audio, TwoLanguages(), checkpoint=checkpoint)
    assert list(checkpoint.saved) == [0]
    checkpoint.kill_after = None
    engine = TwoLanguages()
    resumed, resumed_gaps = transcribe_windows(audio, engine, checkpoint=checkpoint)
    assert (resumed, resumed_gaps) == (whole, whole_gaps)
    first_window = [call for call in uninterrupted.calls if call not in engine.calls]
    assert first_window and len(engine.calls) + len(first_window) == len(uninterrupted.calls)  # not redone
    # each language is prompted only with its own earlier text
    assert all(not prompt or prompt.startswith(language) for _, language, prompt in engine.calls)


def test_a_two_hour_recording_is_read_from_disk_a_window_at_a_time(tmp_path: Path) -> None:
    """Memory flat in the meeting's length: voice activity, language, transcription and gaps see one window, read
    from the decoded file when its turn comes; the recording is never in memory whole (it would be 460 MB)."""
    transcriber = make_transcriber(Settings(engine="faster-whisper", model="tiny.en", threads=1))
    audio = mostly_silent(tmp_path / "audio.f32", 2 * 3600, {3600.0: speech("jfk.flac")})

    transcript = transcriber.transcribe(audio)

    window = transcriber.window_seconds * SAMPLE_RATE
    assert max(audio.reads) <= window * 1.1  # the last window may take up to a tenth more
    assert sum(audio.reads) < audio.num_samples * 1.1  # each sample read about once (and the cuts' quiet search)
    assert transcript.duration == 7200
    words = " ".join(s.text.lower() for s in transcript.segments)
    assert "ask not what your country can do for you" in words
    spoken = [s for s in transcript.segments if "fellow america" in s.text.lower()]
    assert spoken and 3600 <= spoken[0].start < 3602  # at its place on the recording's timeline
