"""Voice activity: where in a window someone speaks, by the Silero VAD model that faster-whisper ships (ONNX)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archive.media.decode import SAMPLE_RATE

# Silero's own defaults for what counts as speech (probability 0.5, stretches of at least 250 ms). A pause of
# half a second ends a stretch: turns in a hearing are separated by at least that much, while a speaker's
# breath between words is shorter; a stretch is cut at a pause after 30 s, so one identification never has
# to cover more than Whisper hears at once.
THRESHOLD = 0.5
MIN_SPEECH_MS = 250
MIN_SILENCE_MS = 500
MAX_STRETCH_SECONDS = 30
PAD_MS = 200  # each stretch keeps this much of the quiet around it, so that no word's edge is clipped


@dataclass(frozen=True)
class Stretch:
    """A stretch of speech, in seconds from the start of the audio it was found in."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    def samples(self, audio: np.ndarray) -> np.ndarray:
        return audio[int(self.start * SAMPLE_RATE) : int(self.end * SAMPLE_RATE)]


def speech_stretches(audio: np.ndarray) -> list[Stretch]:
    """The stretches of speech in 16 kHz mono audio, in time order."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if len(audio) == 0:
        return []
    options = VadOptions(
        threshold=THRESHOLD,
        min_speech_duration_ms=MIN_SPEECH_MS,
        min_silence_duration_ms=MIN_SILENCE_MS,
        max_speech_duration_s=MAX_STRETCH_SECONDS,
        speech_pad_ms=PAD_MS,
    )
    found = get_speech_timestamps(np.ascontiguousarray(audio, dtype=np.float32), options, SAMPLE_RATE)
    return [Stretch(round(s["start"] / SAMPLE_RATE, 3), round(s["end"] / SAMPLE_RATE, 3)) for s in found]
