"""faster-whisper's log-Mel spectrogram, computed a block of frames at a time.

faster-whisper computes the spectrogram of all the audio it is handed in one go: for a 300 s transcription window
that is 30,000 frames × 400 samples windowed, their FFT and its magnitudes, 231 MiB at once for a spectrogram
of 10 MB (measured 2026-12-08: the transcription stage's peak on a dense meeting). The frames are independent of
one another, so `BlockwiseFeatures` computes the same spectrogram 3,000 frames (30 s) at a time, with the same
operations on each frame, and holds a block's work (about 5 MB) besides the result. The values are those of
faster-whisper's extractor to within float32 rounding (at most 6e-8 on a 300 s window: the matrix product that
makes the Mel bands sums in another order for a narrower block), and the transcripts are the same.
"""

from __future__ import annotations

import numpy as np
from faster_whisper.feature_extractor import FeatureExtractor

BLOCK_FRAMES = 3000  # 30 s of 10 ms frames


class BlockwiseFeatures(FeatureExtractor):
    """faster-whisper's FeatureExtractor, its spectrogram computed BLOCK_FRAMES at a time."""

    def __call__(self, waveform: np.ndarray, padding: int = 160, chunk_length: int | None = None) -> np.ndarray:
        if chunk_length is not None:  # as faster-whisper's own extractor: it sets the model's input length
            self.n_samples = chunk_length * self.sampling_rate
            self.nb_max_frames = self.n_samples // self.hop_length
        samples = np.pad(waveform.astype(np.float32, copy=False), (0, padding))
        samples = np.pad(samples, self.n_fft // 2, mode="reflect")  # centred frames, as torch.stft's default
        window = np.hanning(self.n_fft + 1)[:-1].astype(np.float32)
        frames = 1 + (len(samples) - self.n_fft) // self.hop_length
        # Whisper drops the last frame; each block's columns are written in place.
        mel = np.empty((len(self.mel_filters), frames - 1), dtype=np.float32)
        for first in range(0, frames - 1, BLOCK_FRAMES):
            count = min(BLOCK_FRAMES, frames - 1 - first)
            block = np.lib.stride_tricks.as_strided(
                samples[first * self.hop_length :],
                (count, self.n_fft),
                (self.hop_length * samples.strides[0], samples.strides[0]),
                writeable=False,
            )
            spectrum = np.fft.rfft(block * window, n=self.n_fft, axis=-1).astype(np.complex64, copy=False).T
            mel[:, first : first + count] = self.mel_filters @ (np.abs(spectrum) ** 2)
        # faster-whisper's arithmetic, in place: no copies of the spectrogram
        np.log10(np.clip(mel, 1e-10, None, out=mel), out=mel)
        np.maximum(mel, mel.max() - 8.0, out=mel)
        mel += 4.0
        mel /= 4.0
        return mel
