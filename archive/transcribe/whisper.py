"""The openai-whisper engine (the default): PyTorch on the CPU, word timestamps by cross-attention."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch

from archive.media.decode import SAMPLE_RATE
from archive.transcribe.models import load_whisper_model
from archive.transcribe.transcript import Progress, Transcript, TranscriptSegment, Word
from archive.transcribe.windows import TEMPERATURES, Checkpoint, decoding_parameters, windowed_transcript


class WhisperTranscriber:
    engine = "whisper"

    def __init__(
        self,
        model: str,
        *,
        model_path: str | None,
        cache_dir: Path,
        language: str | None,
        threads: int,
        beam_size: int,
        window_seconds: int,
    ) -> None:
        self.model = model
        self._whisper = load_whisper_model(model, model_path, cache_dir, threads)
        self.threads = threads
        _compile_word_alignment()
        self.language = language or ("en" if model.endswith(".en") else None)
        self.window_seconds = window_seconds
        self.parameters = decoding_parameters(
            model_path=model_path,
            language=self.language,
            threads=threads,
            beam_size=beam_size,
            window_seconds=window_seconds,
        )

    def transcribe(
        self, audio: np.ndarray, *, on_progress: Progress | None = None, checkpoint: Checkpoint | None = None
    ) -> Transcript:
        import whisper

        torch.set_num_threads(self.threads)  # see _compile_word_alignment

        def one_window(samples: np.ndarray, prompt: str, report: Callable[[float], None]) -> list[TranscriptSegment]:
            result = whisper.transcribe(
                self._whisper,
                samples,
                language=self.language,
                temperature=TEMPERATURES,
                beam_size=self.parameters["beam_size"],
                best_of=self.parameters["best_of"],
                word_timestamps=True,
                condition_on_previous_text=True,
                initial_prompt=prompt or None,
                fp16=False,
                verbose=None,
            )
            language = result.get("language") or self.language or ""
            report(len(samples) / SAMPLE_RATE)
            return [_segment(s, language) for s in result["segments"]]

        return windowed_transcript(self, version("openai-whisper"), audio, one_window, on_progress, checkpoint)


def _compile_word_alignment() -> None:
    """Compile whisper's numba DTW now, then pin torch's threads again.

    Compiling resets the OpenMP thread count to the number of cores; on a busy 2-core machine that made
    every later transcription about 3.5× slower (measured: 10 s → 35 s for a 30 s recording).
    """
    from whisper.timing import dtw_cpu

    dtw_cpu(np.zeros((2, 2)))


def _segment(raw: dict, language: str) -> TranscriptSegment:
    words = tuple(
        Word(
            w["word"].strip(), round(float(w["start"]), 3), round(float(w["end"]), 3), round(float(w["probability"]), 4)
        )
        for w in raw.get("words", [])
        if w["word"].strip()
    )
    return TranscriptSegment(
        start=round(float(raw["start"]), 3),
        end=round(float(raw["end"]), 3),
        text=raw["text"].strip(),
        words=words,
        avg_logprob=round(float(raw["avg_logprob"]), 4),
        no_speech_prob=round(float(raw["no_speech_prob"]), 4),
        language=language,
    )
