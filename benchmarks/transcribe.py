"""Transcription speed and accuracy of both engines, side by side, in one run.

For each engine, in its own child process (so peak memory belongs to that engine alone):
model load time, a warm-up, then the median real-time factor (processing seconds per audio second)
over --runs passes of a --minutes long recording built from the test fixtures, the peak resident
memory, and the word error rate on the fixtures. Prints a table and the ratio between the engines.

    .venv/bin/python benchmarks/transcribe.py                 # 10 minutes, 3 runs, 1 thread
    .venv/bin/python benchmarks/transcribe.py --minutes 2 --runs 1 --threads 2
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.config import Settings  # noqa: E402
from archive.media.decode import SAMPLE_RATE, decode_audio  # noqa: E402
from archive.transcribe import make_transcriber  # noqa: E402
from archive.transcribe.evaluate import reference_text, word_error_rate  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
JFK_TRUTH = (
    "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
)


def long_recording(minutes: float) -> np.ndarray:
    """The fixtures' speech, with pauses, repeated to the requested length (a meeting-like mix)."""
    _, sample = decode_audio(FIXTURES / "sample.wav")
    _, jfk = decode_audio(FIXTURES / "jfk.flac")
    pause = np.zeros(SAMPLE_RATE, np.float32)
    block = np.concatenate([sample, pause, jfk, pause])
    repeats = int(np.ceil(minutes * 60 * SAMPLE_RATE / len(block)))
    return np.tile(block, repeats)[: int(minutes * 60 * SAMPLE_RATE)]


def measure(engine: str, minutes: float, runs: int, threads: int, beam_size: int) -> dict[str, object]:
    """Runs inside the child process for one engine."""
    settings = Settings.from_env(engine=engine, threads=threads, beam_size=beam_size)
    began = time.perf_counter()
    transcriber = make_transcriber(settings)
    load_seconds = time.perf_counter() - began

    _, jfk = decode_audio(FIXTURES / "jfk.flac")
    jfk_text = transcriber.transcribe(jfk).text  # also the warm-up
    _, sample = decode_audio(FIXTURES / "sample.wav")
    sample_text = transcriber.transcribe(sample).text

    audio = long_recording(minutes)
    rtfs = []
    for _ in range(runs):
        began = time.perf_counter()
        transcriber.transcribe(audio)
        rtfs.append((time.perf_counter() - began) / (len(audio) / SAMPLE_RATE))
    return {
        "engine": engine,
        "load_seconds": load_seconds,
        "rtf_median": statistics.median(rtfs),
        "rtf_runs": rtfs,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "wer_jfk": word_error_rate(JFK_TRUTH, jfk_text),
        "wer_sample": word_error_rate(reference_text(FIXTURES / "sample.stm"), sample_text),
        "jfk_text": jfk_text,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--engines", default="faster-whisper,whisper")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(measure(args.child, args.minutes, args.runs, args.threads, args.beam_size)))
        return

    results = []
    for engine in args.engines.split(","):
        command = [
            sys.executable,
            __file__,
            "--child",
            engine,
            "--minutes",
            str(args.minutes),
            "--runs",
            str(args.runs),
            "--threads",
            str(args.threads),
            "--beam-size",
            str(args.beam_size),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))

    print(
        f"{args.minutes:g}-minute recording, {args.runs} run(s) after a warm-up, "
        f"{args.threads} thread(s), beam {args.beam_size}, tiny.en"
    )
    print(
        f"{'engine':<16}{'load s':>8}{'RTF median':>12}{'RTF runs':>24}{'peak MiB':>10}{'WER jfk':>9}{'WER sample':>12}"
    )
    for r in results:
        runs = " ".join(f"{x:.3f}" for x in r["rtf_runs"])
        print(
            f"{r['engine']:<16}{r['load_seconds']:>8.2f}{r['rtf_median']:>12.3f}{runs:>24}"
            f"{r['peak_rss_mib']:>10.0f}{r['wer_jfk']:>9.3f}{r['wer_sample']:>12.3f}"
        )
    if len(results) == 2:
        fast, slow = sorted(results, key=lambda r: r["rtf_median"])
        print(
            f"ratio: {slow['engine']} takes {slow['rtf_median'] / fast['rtf_median']:.2f}× the time of {fast['engine']}"
        )
        same = results[0]["jfk_text"] == results[1]["jfk_text"]
        print(f"engines agree on jfk.flac word for word: {'yes' if same else 'no'}")


if __name__ == "__main__":
    main()
