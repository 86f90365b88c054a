"""Cutting long recordings into windows at quiet moments, and the window loop around an engine."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from archive.media.decode import SAMPLE_RATE
from archive.transcribe.transcript import TranscriptSegment, Word
from archive.transcribe.windows import is_silent, split_points, transcribe_windows, windows
from tests.media_files import speech


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
