"""The faster-whisper engine: CTranslate2, int8 on the CPU, the same Whisper weights."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from archive.media.audio import AudioSource
from archive.transcribe.gaps import offline_guess
from archive.transcribe.glossary import Glossary
from archive.transcribe.languages import usable_languages
from archive.transcribe.models import load_faster_whisper_model
from archive.transcribe.transcript import Progress, Transcript, TranscriptSegment, Word
from archive.transcribe.windows import TEMPERATURES, Checkpoint, decoding_parameters, windowed_transcript

N_FRAMES = 3000  # 30 s of 10 ms spectrogram frames: the most Whisper's encoder takes


class FasterWhisperTranscriber:
    engine = "faster-whisper"

    def __init__(
        self,
        model: str,
        *,
        model_path: str | None,
        cache_dir: Path,
        languages: tuple[str, ...],
        threads: int,
        beam_size: int,
        window_seconds: int,
    ) -> None:
        self.model = model
        self._model = load_faster_whisper_model(model, model_path, cache_dir, threads)
        self.languages = usable_languages(model, languages, self._model.model.is_multilingual)
        self.guess = offline_guess(cache_dir, threads)
        self.window_seconds = window_seconds
        self.parameters = decoding_parameters(
            model_path=model_path,
            languages=self.languages,
            threads=threads,
            beam_size=beam_size,
            window_seconds=window_seconds,
        ) | {"compute_type": "int8"}

    def transcribe(
        self,
        audio: AudioSource | np.ndarray,
        *,
        on_progress: Progress | None = None,
        checkpoint: Checkpoint | None = None,
        glossary: Glossary | None = None,
    ) -> Transcript:
        engine_version = f"{version('faster-whisper')} (ctranslate2 {version('ctranslate2')})"
        return windowed_transcript(self, engine_version, audio, on_progress, checkpoint, glossary)

    def decode(
        self, samples: np.ndarray, language: str, prompt: str, report: Callable[[float], None], hotwords: str = ""
    ) -> list[TranscriptSegment]:
        raw_segments, _ = self._model.transcribe(
            samples,
            language=language,
            beam_size=self.parameters["beam_size"],
            best_of=self.parameters["best_of"],
            temperature=list(TEMPERATURES),
            word_timestamps=True,
            condition_on_previous_text=True,
            initial_prompt=prompt or None,
            hotwords=hotwords or None,
        )
        found = []
        for raw in raw_segments:  # a generator: decoding happens as we iterate
            found.append(_segment(raw, language))
            report(raw.end)
        return found

    def identify(self, samples: np.ndarray) -> dict[str, float]:
        # The encoder runs on the stretch alone, not padded to 30 s as for transcription: CTranslate2 takes a
        # shorter spectrogram, which costs a fraction of a full pass (the figures are in benchmarks/transcribe.py).
        features = self._model.feature_extractor(samples)[:, :N_FRAMES]
        encoded = self._model.encode(features)
        return {token[2:-2]: probability for token, probability in self._model.model.detect_language(encoded)[0]}


def _segment(raw: Any, language: str) -> TranscriptSegment:
    words = tuple(
        Word(w.word, round(float(w.start), 3), round(float(w.end), 3), round(float(w.probability), 4))
        for w in (raw.words or [])
        if w.word.strip()
    )
    return TranscriptSegment(
        start=round(float(raw.start), 3),
        end=round(float(raw.end), 3),
        text=raw.text.strip(),
        words=words,
        avg_logprob=round(float(raw.avg_logprob), 4),
        no_speech_prob=round(float(raw.no_speech_prob), 4),
        language=language,
    )
