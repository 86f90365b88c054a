"""The machine transcript: what every engine returns, and its immutable JSON file."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from archive.media.audio import AudioSource

# Called with (seconds of audio done, seconds in all) as transcription advances.
Progress = Callable[[float, float], None]


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    probability: float


# How a segment's language was decided (TranscriptSegment.language_source).
CONFIGURED = "configured"  # the one language the archive or meeting is set to: nothing to decide
DETECTED = "detected"  # identified by the model on this stretch of speech, among the configured languages
NEIGHBOUR = "neighbour"  # a stretch too short to identify takes the language of the nearest identified one


@dataclass(frozen=True)
class TranscriptSegment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...]
    avg_logprob: float
    no_speech_prob: float
    language: str
    # Transcripts written before languages were decided per stretch have neither; they load with these defaults.
    language_probability: float | None = None  # among the configured languages; None when nothing was decided
    language_source: str = ""  # CONFIGURED, DETECTED or NEIGHBOUR; "" in older transcripts


@dataclass(frozen=True)
class Gap:
    """Speech that voice activity found and no transcribed word covers: said, but not in the transcript."""

    start: float
    end: float
    reason: str  # for people: "speech not transcribed — Spanish? re-run with --languages en,es"
    language: str = ""  # the language the model heard there, if it could tell


@dataclass(frozen=True)
class Check:
    """A guided pass that left speech without words, transcribed again without guidance (archive.transcribe.guard):
    the span, its seconds of speech, how many each pass covered, and which pass the transcript kept."""

    start: float
    end: float
    speech_seconds: float
    guided_seconds: float
    unguided_seconds: float
    kept: str  # "unguided" (the glossary was set aside here), "both" (unguided words in its holes) or "guided"

    @property
    def note(self) -> str:
        span = f"{self.start:.1f}–{self.end:.1f}"
        if self.kept == "unguided":
            return f"guard: {span} re-transcribed without the glossary"
        if self.kept == "both":
            return f"guard: {span} re-transcribed without the glossary where the guided words left speech out"
        return f"guard: {span} checked without the glossary; the guided words were kept"


@dataclass(frozen=True)
class Transcript:
    engine: str
    model: str
    engine_version: str
    language: str
    duration: float
    segments: tuple[TranscriptSegment, ...]
    parameters: dict[str, Any] = field(default_factory=dict)
    processing_seconds: float = 0.0
    languages: tuple[str, ...] = ()  # the languages its segments are in, most spoken first
    gaps: tuple[Gap, ...] = ()
    # The glossary given to the model (archive.transcribe.glossary.Glossary.record) and the exact prompt or
    # hotwords of each window; empty for an unguided transcript.
    guidance: dict[str, Any] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Transcript:
        data = json.loads(text)
        segments = tuple(
            TranscriptSegment(**{**s, "words": tuple(Word(**w) for w in s["words"])}) for s in data.pop("segments")
        )
        gaps = tuple(Gap(**g) for g in data.pop("gaps", ()))
        checks = tuple(Check(**c) for c in data.pop("checks", ()))
        languages = tuple(data.pop("languages", ())) or spoken_languages(segments)
        return cls(**data, segments=segments, languages=languages, gaps=gaps, checks=checks)


class Transcriber(Protocol):
    """A speech engine with a loaded model; both engines return the same Transcript shape."""

    engine: str
    model: str

    languages: tuple[str, ...]

    def transcribe(
        self,
        audio: AudioSource | np.ndarray,
        *,
        on_progress: Progress | None = None,
        checkpoint: Any = None,
        glossary: Any = None,
    ) -> Transcript:
        """`audio` is read a window at a time (archive.media.audio); `checkpoint` (archive.transcribe.windows
        .Checkpoint) keeps finished windows, so a run can resume; `glossary` (archive.transcribe.glossary.Glossary)
        guides the model."""
        ...


class Engine(Protocol):
    """What an engine gives the window loop (archive.transcribe.windows); both transcribers are engines."""

    languages: tuple[str, ...]
    window_seconds: int

    def decode(
        self, samples: np.ndarray, language: str, prompt: str, report: Callable[[float], None], hotwords: str = ""
    ) -> list[TranscriptSegment]:
        """Transcribe in `language`; times relative to `samples`; words keep the engine's spacing (" word").
        `hotwords` (faster-whisper only) go before every 30 s decoded."""
        ...

    def identify(self, samples: np.ndarray) -> dict[str, float]:
        """Language probabilities of a stretch of speech (at most 30 s), over every language the model knows."""
        ...

    def guess(self, samples: np.ndarray) -> tuple[str, float] | None:
        """The most likely language of untranscribed speech, by any model at hand; None if none can tell."""
        ...


def transcript_filename(
    sha256: str, engine: str, model: str, languages: tuple[str, ...] = ("en",), guidance: str = ""
) -> str:
    """transcripts/<sha256>.<engine>.<model>[.<languages>][.g<hash>].json, the model name made safe for a file name.

    The languages a run was told to expect are part of the name: a run for English alone is not a run for
    English and Spanish. English alone keeps the name transcripts had before languages were configurable. A guided
    transcript adds the first 16 hex digits of its glossary's hash.
    """
    safe_model = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("._") or "model"
    tail = "" if tuple(languages) == ("en",) else "." + "-".join(languages)
    guided = f".g{guidance[:16]}" if guidance else ""
    return f"{sha256}.{engine}.{safe_model}{tail}{guided}.json"


def configured_languages(transcript: Transcript) -> tuple[str, ...]:
    """The languages the run that made `transcript` was told to expect (older transcripts: their one language)."""
    configured = transcript.parameters.get("languages")
    if configured:
        return tuple(configured)
    return (transcript.parameters.get("language") or "en",)


def spoken_languages(segments: tuple[TranscriptSegment, ...] | list[TranscriptSegment]) -> tuple[str, ...]:
    """The languages of the segments, the one with the most seconds of speech first."""
    seconds: dict[str, float] = {}
    for s in segments:
        if s.language:
            seconds[s.language] = seconds.get(s.language, 0.0) + s.end - s.start
    return tuple(sorted(seconds, key=lambda language: -seconds[language]))


def most_common_language(segments: tuple[TranscriptSegment, ...] | list[TranscriptSegment]) -> str | None:
    languages = spoken_languages(segments)
    return languages[0] if languages else None


def load_transcript(path: Path) -> Transcript:
    return Transcript.from_json(path.read_text(encoding="utf-8"))
