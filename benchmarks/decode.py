"""Decoding a long meeting: time and memory of the decoder child and of the process that receives the audio.

Builds an --hours long MP3 from the fixtures' speech (streamed to a temporary file), then, in a fresh process,
decodes it as ingest does (archive.media.decode: a child process streaming 16 kHz float32 to a file) and prints
the decode time, the child's peak memory, the receiving process's peak memory and the size of the audio itself.

    .venv/bin/python benchmarks/decode.py --hours 3
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.media.decode import SAMPLE_RATE, decode_audio  # noqa: E402
from tests.factories.media import speech  # noqa: E402


def write_long_mp3(path: Path, hours: float) -> None:
    """The fixtures' speech repeated for `hours`, encoded frame by frame (memory stays small)."""
    block = np.concatenate([speech("sample.wav"), np.zeros(SAMPLE_RATE, np.float32), speech("jfk.flac")])
    total = int(hours * 3600 * SAMPLE_RATE)
    with av.open(str(path), "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=SAMPLE_RATE, layout="mono")
        frame_size = 1152
        sample_format = stream.codec_context.format.name
        written = 0
        while written < total:
            chunk = block[(written + np.arange(min(frame_size, total - written))) % len(block)]
            data = (
                (np.clip(chunk.astype(np.float64), -1, 1) * 2147483647).astype(np.int32)
                if sample_format.startswith("s32")
                else chunk
            )
            frame = av.AudioFrame.from_ndarray(data.reshape(1, -1), format=sample_format, layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, written, Fraction(1, SAMPLE_RATE)
            out.mux(stream.encode(frame))
            written += len(chunk)
        out.mux(stream.encode(None))


def measure(path: Path) -> None:
    """In a fresh process: decode as ingest does and report memory."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    began = time.perf_counter()
    _, audio = decode_audio(path, timeout=3600)
    seconds = time.perf_counter() - began
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    duration = len(audio) / SAMPLE_RATE
    print(f"decoded {duration / 3600:.2f} h in {seconds:.0f} s ({seconds / duration:.4f} s per audio second)")
    print(f"decoder child peak memory: {child:.0f} MiB")
    print(
        f"receiving process peak memory: {after:.0f} MiB (before decoding {before:.0f} MiB; "
        f"the audio itself {audio.nbytes / 2**20:.0f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    with tempfile.TemporaryDirectory(prefix="testimony-decode-") as tmp:
        path = Path(tmp) / "long.mp3"
        began = time.perf_counter()
        write_long_mp3(path, args.hours)
        size, seconds = path.stat().st_size / 2**20, time.perf_counter() - began
        print(f"{args.hours:g} h MP3: {size:.0f} MiB, encoded in {seconds:.0f} s")
        subprocess.run([sys.executable, __file__, "--measure", str(path)], check=True)


if __name__ == "__main__":
    main()
