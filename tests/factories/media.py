"""Real media files for tests, encoded with PyAV from the fixtures' speech."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from archive.media.audio import DecodedAudio

FIXTURES = Path(__file__).parents[1] / "fixtures"  # real recordings and their truth files
RATE = 16_000


def speech(name: str = "jfk.flac") -> np.ndarray:
    """A fixture's audio as 16 kHz mono float32, decoded here in-process (tests trust PyAV)."""
    with av.open(str(FIXTURES / name)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        frames = [*container.decode(audio=0), None]  # None flushes the resampler
        chunks = [c.to_ndarray().reshape(-1) for f in frames for c in resampler.resample(f)]
    return np.concatenate(chunks).astype(np.float32)


def encode(
    audio: np.ndarray,
    path: Path,
    fmt: str,
    codec: str,
    *,
    video: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write 16 kHz mono float audio with the given container and codec; optionally a small video stream and
    container metadata (creation_time…)."""
    rate = 48_000 if codec == "libopus" else RATE  # Opus encodes at 48 kHz only
    if rate != RATE:
        audio = np.interp(np.arange(len(audio) * rate // RATE) * RATE / rate, np.arange(len(audio)), audio)
    with av.open(str(path), "w", format=fmt) as out:
        out.metadata.update(metadata or {})
        stream = out.add_stream(codec, rate=rate, layout="mono")
        vstream = None
        if video:
            vstream = out.add_stream(video, rate=5)
            vstream.width, vstream.height, vstream.pix_fmt = 64, 48, "yuv420p"
        sample_format = stream.codec_context.format.name
        frame_size = stream.codec_context.frame_size or 1024
        pcm = np.clip(audio.astype(np.float64), -1, 1)
        if sample_format.startswith("s16"):
            pcm = (pcm * 32767).astype(np.int16)
        elif sample_format.startswith("s32"):
            pcm = (pcm * 2147483647).astype(np.int32)
        else:
            pcm = pcm.astype(np.float32)
        for start in range(0, len(pcm), frame_size):
            chunk = pcm[start : start + frame_size]
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format=sample_format, layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if vstream is not None:
            seconds = len(audio) / rate
            for i in range(int(seconds * 5)):
                image = np.full((48, 64, 3), (i * 7) % 255, dtype=np.uint8)
                vframe = av.VideoFrame.from_ndarray(image, format="rgb24")
                vframe.pts = i
                out.mux(vstream.encode(vframe))
            out.mux(vstream.encode(None))
    return path


class CountingAudio(DecodedAudio):
    """The real file source (archive.media.audio.DecodedAudio), noting the length of every read the stages make."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reads: list[int] = []

    def read(self, start: int, stop: int) -> np.ndarray:
        samples = super().read(start, stop)
        self.reads.append(len(samples))
        return samples


def mostly_silent(path: Path, seconds: float, speech_at: dict[float, np.ndarray]) -> CountingAudio:
    """A decoded recording as ingest keeps it (raw 16 kHz float32 on disk), `seconds` long, silent but for the
    speech placed at the given times. The silence is a sparse file: hours of it cost no disk and no time."""
    with open(path, "wb") as sink:
        sink.truncate(int(seconds * RATE) * 4)
        for at, samples in speech_at.items():
            sink.seek(int(at * RATE) * 4)
            sink.write(np.asarray(samples, dtype=np.float32).tobytes())
    return CountingAudio(path)
