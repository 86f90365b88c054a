"""The openai-whisper engine (the default): PyTorch on the CPU, word timestamps by cross-attention."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch

from archive.errors import InvalidInput
from archive.media.audio import AudioSource
from archive.media.decode import SAMPLE_RATE
from archive.transcribe.gaps import offline_guess
from archive.transcribe.glossary import Glossary
from archive.transcribe.languages import usable_languages
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
        languages: tuple[str, ...],
        threads: int,
        beam_size: int,
        window_seconds: int,
    ) -> None:
        self.model = model
        self._whisper = load_whisper_model(model, model_path, cache_dir, threads)
        self.threads = threads
        _compile_word_alignment()
        self.languages = usable_languages(model, languages, self._whisper.is_multilingual)
        self.guess = offline_guess(cache_dir, threads)
        self.window_seconds = window_seconds
        self.parameters = decoding_parameters(
            model_path=model_path,
            languages=self.languages,
            threads=threads,
            beam_size=beam_size,
            window_seconds=window_seconds,
        )

    def transcribe(
        self,
        audio: AudioSource | np.ndarray,
        *,
        on_progress: Progress | None = None,
        checkpoint: Checkpoint | None = None,
        glossary: Glossary | None = None,
    ) -> Transcript:
        torch.set_num_threads(self.threads)  # see _compile_word_alignment
        return windowed_transcript(self, version("openai-whisper"), audio, on_progress, checkpoint, glossary)

    def decode(
        self, samples: np.ndarray, language: str, prompt: str, report: Callable[[float], None], hotwords: str = ""
    ) -> list[TranscriptSegment]:
        import whisper

        if hotwords:
            raise InvalidInput("hotwords need the faster-whisper engine; with whisper the glossary is the prompt")
        result = whisper.transcribe(
            self._whisper,
            samples,
            language=language,
            temperature=TEMPERATURES,
            beam_size=self.parameters["beam_size"],
            best_of=self.parameters["best_of"],
            word_timestamps=True,
            condition_on_previous_text=True,
            initial_prompt=prompt or None,
            fp16=False,
            verbose=None,
        )
        report(len(samples) / SAMPLE_RATE)
        return [_segment(s, language) for s in result["segments"]]

    def identify(self, samples: np.ndarray) -> dict[str, float]:
        """Whisper's language identification on the stretch alone: whisper.detect_language pads every input to
        30 s, which costs a full encoder pass for a few seconds of speech; the encoder works on fewer frames
        when its positional embedding is cut to match (as CTranslate2 does)."""
        import whisper
        from torch.nn import functional

        model = self._whisper
        encoder = model.encoder
        mel = whisper.log_mel_spectrogram(torch.from_numpy(np.ascontiguousarray(samples)), model.dims.n_mels)
        with torch.no_grad():
            x = functional.gelu(encoder.conv1(mel[None, :, : whisper.audio.N_FRAMES]))
            x = functional.gelu(encoder.conv2(x)).permute(0, 2, 1)
            x = x + encoder.positional_embedding[: x.shape[1]]
            for block in encoder.blocks:
                x = block(x)
            features = encoder.ln_post(x)
            tokenizer = whisper.tokenizer.get_tokenizer(True, num_languages=model.num_languages)
            logits = model.logits(torch.tensor([[tokenizer.sot]]), features)[0, -1]
            probabilities = logits[list(tokenizer.all_language_tokens)].softmax(-1).tolist()
        return dict(zip(tokenizer.all_language_codes, probabilities, strict=True))


def _compile_word_alignment() -> None:
    """Compile whisper's numba DTW now, then pin torch's threads again.

    Compiling resets the OpenMP thread count to the number of cores; on a busy 2-core machine that made
    every later transcription about 3.5× slower (measured: 10 s → 35 s for a 30 s recording).
    """
    from whisper.timing import dtw_cpu

    dtw_cpu(np.zeros((2, 2)))


def _segment(raw: dict, language: str) -> TranscriptSegment:
    words = tuple(
        Word(w["word"], round(float(w["start"]), 3), round(float(w["end"]), 3), round(float(w["probability"]), 4))
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
