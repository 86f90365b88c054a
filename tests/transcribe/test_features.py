"""faster-whisper's log-Mel spectrogram a block of frames at a time: its values, without its memory."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from faster_whisper.feature_extractor import FeatureExtractor

from archive.config import Settings
from archive.media.decode import SAMPLE_RATE
from archive.transcribe import make_transcriber
from archive.transcribe.features import BLOCK_FRAMES, BlockwiseFeatures
from tests.factories.media import speech

WINDOW_SECONDS = 300  # TESTIMONY_WINDOW_SECONDS' default: what a transcription window hands the engine


def mixed_speech(seconds: float) -> np.ndarray:
    """English and Spanish speech from the fixtures, repeated to `seconds`."""
    voices = np.concatenate([speech("sample.wav"), speech(), speech("spanish/testimony-es.ogg")])
    return np.resize(voices, int(seconds * SAMPLE_RATE))


def test_the_spectrogram_is_faster_whispers_to_within_rounding() -> None:
    audio = mixed_speech(WINDOW_SECONDS)
    ours, theirs = BlockwiseFeatures(feature_size=80), FeatureExtractor(feature_size=80)
    blockwise, whole = ours(audio, chunk_length=30), theirs(audio, chunk_length=30)
    assert blockwise.shape == whole.shape == (80, WINDOW_SECONDS * 100 + 1)
    assert blockwise.dtype == whole.dtype == np.float32
    assert np.abs(blockwise - whole).max() <= 1e-6  # the Mel bands' sums, in another order for a narrower block
    assert (ours.n_samples, ours.nb_max_frames) == (theirs.n_samples, theirs.nb_max_frames)
    # a stretch of one block is worked out exactly as faster-whisper does (language identification's case)
    short = audio[: 20 * SAMPLE_RATE]
    assert len(short) // 160 < BLOCK_FRAMES
    assert np.array_equal(ours(short), theirs(short))


MEASURE = """
import json, sys
from pathlib import Path
import numpy as np
from faster_whisper.feature_extractor import FeatureExtractor
from archive.transcribe.features import BlockwiseFeatures
audio = np.random.default_rng(0).standard_normal({samples}).astype(np.float32) * 0.1
extractor = {{"ours": BlockwiseFeatures, "theirs": FeatureExtractor}}[sys.argv[1]](feature_size=80)
def high_water():  # this program's peak resident memory, KiB (ru_maxrss would count the parent's, before exec)
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmHWM:")).split()[1])
extractor(audio[:16000])  # numpy's FFT plans and the like, before the measured call
before = high_water()
extractor(audio, chunk_length=30)
print(json.dumps((high_water() - before) / 1024))
"""


def peak_mib(which: str) -> float:
    """What computing one window's spectrogram adds to a fresh process's peak resident memory, MiB."""
    script = MEASURE.format(samples=WINDOW_SECONDS * SAMPLE_RATE)
    done = subprocess.run([sys.executable, "-c", script, which], check=True, capture_output=True, text=True)
    return float(json.loads(done.stdout))


def test_a_windows_spectrogram_costs_a_fraction_of_the_memory() -> None:
    """The transcription stage's peak on a dense meeting was faster-whisper's spectrogram of a 300 s window."""
    ours, theirs = peak_mib("ours"), peak_mib("theirs")
    assert theirs > 150  # about 200 MiB more for the one window: the measurement sees the peak
    assert ours < 80 and ours < theirs / 3  # the padded audio and the spectrogram (19 + 10 MB) and a block's work


def test_the_engine_uses_it_and_transcribes_the_same_words() -> None:
    transcriber = make_transcriber(Settings(engine="faster-whisper", model="tiny.en", threads=1))
    model = transcriber._model
    assert isinstance(model.feature_extractor, BlockwiseFeatures)
    audio = mixed_speech(45)[: 45 * SAMPLE_RATE]  # more than one block
    blockwise = transcriber.transcribe(audio).segments
    model.feature_extractor = FeatureExtractor(**model.feat_kwargs)
    try:
        whole = transcriber.transcribe(audio).segments
    finally:
        model.feature_extractor = BlockwiseFeatures(**model.feat_kwargs)
    assert blockwise and blockwise == whole
