"""The faster-whisper engine: CTranslate2, int8 on the CPU, the same Whisper weights."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import numpy as np

from archive.transcribe.models import load_faster_whisper_model
from archive.transcribe.transcript import Progress, Transcript, TranscriptSegment, Word
from archive.transcribe.windows import TEMPERATURES, Checkpoint, decoding_parameters, windowed_transcript


class FasterWhisperTranscriber:
    engine = "faster-whisper"

    def __init__(
        self,
        model: str,
        *,
        model_path: str | None,
        language: str | None,
        threads: int,
        beam_size: int,
        window_seconds: int,
    ) -> None:
        self.model = model
        self._model = load_faster_whisper_model(model, model_path, threads)
        self.language = language or ("en" if model.endswith(".en") else None)
        self.window_seconds = window_seconds
        self.parameters = decoding_parameters(
            model_path=model_path,
            language=self.language,
            threads=threads,
            beam_size=beam_size,
            window_seconds=window_seconds,
        ) | {"compute_type": "int8"}

    def transcribe(
        self, audio: np.ndarray, *, on_progress: Progress | None = None, checkpoint: Checkpoint | None = None
    ) -> Transcript:
        def one_window(samples: np.ndarray, prompt: str, report: Callable[[float], None]) -> list[TranscriptSegment]:
            raw_segments, info = self._model.transcribe(
                samples,
                language=self.language,
                beam_size=self.parameters["beam_size"],
                best_of=self.parameters["best_of"],
                temperature=list(TEMPERATURES),
                word_timestamps=True,
                condition_on_previous_text=True,
                initial_prompt=prompt or None,
            )
            found = []
            for raw in raw_segments:  # a generator: decoding happens as we iterate
                found.append(_segment(raw, info.language))
                report(raw.end)
            return found

        engine_version = f"{version('faster-whisper')} (ctranslate2 {version('ctranslate2')})"
        return windowed_transcript(self, engine_version, audio, one_window, on_progress, checkpoint)


def _segment(raw: Any, language: str) -> TranscriptSegment:
    words = tuple(
        Word(w.word.strip(), round(float(w.start), 3), round(float(w.end), 3), round(float(w.probability), 4))
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
