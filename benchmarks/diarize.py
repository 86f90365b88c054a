"""Diarization accuracy and speed: DER against RTTM references, speakers found, real-time factor and memory.

Accuracy: DER (collar 0 and 0.25 s) and the number of speakers found against the truth, on the fixtures
(sample.wav, the demo meeting) and on any further `AUDIO=RTTM` pairs given on the command line.
Speed: the median real-time factor over --runs passes of a --minutes long recording built from the
fixtures, side by side with faster-whisper transcribing the same recording (the issue's bar: diarization
costs at most what transcription costs), and the peak memory of each, every configuration in its own
child process. --steps compares window steps (pyannote's own default is 1 s; ours 5 s).

    .venv/bin/python benchmarks/diarize.py                          # 10 minutes, 3 runs, steps 5 and 2.5
    .venv/bin/python benchmarks/diarize.py --minutes 2 --runs 1 --steps 5 meeting.wav=meeting.rttm
    .venv/bin/python benchmarks/diarize.py --council 1,2,3          # the twelve-voice hour, three seeds

--council renders the synthetic twelve-voice council meeting (tests/fixtures/council) for each seed and
diarizes it in a child process: DER (collar 0.25 s), voices found against twelve, overlaps flagged, RTF (wall
and CPU) and peak memory, and, from the same windows, what average-linkage clustering alone (the method before
the whole-meeting re-clustering) gives.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.config import Settings  # noqa: E402
from archive.media.decode import SAMPLE_RATE, decode_audio  # noqa: E402
from archive.speakers.clustering import assign_units, weighted_mean  # noqa: E402
from archive.speakers.diarize import Diarizer  # noqa: E402
from archive.speakers.evaluate import diarization_error, read_rttm  # noqa: E402
from archive.speakers.timeline import reconstruct  # noqa: E402
from archive.speakers.windows import LocalSpeakers  # noqa: E402
from benchmarks.transcribe import long_recording  # noqa: E402

FIXTURES = [
    (ROOT / "tests" / "fixtures" / "sample.wav", ROOT / "tests" / "fixtures" / "sample.rttm"),
    (ROOT / "archive" / "demo" / "demo-meeting.ogg", ROOT / "archive" / "demo" / "demo-meeting.rttm"),
]


def accuracy(diarizer: Diarizer, audio_path: Path, rttm_path: Path) -> dict[str, object]:
    _, audio = decode_audio(audio_path, name=str(audio_path))
    began = time.perf_counter()
    result = diarizer.diarize(audio)
    seconds = time.perf_counter() - began
    reference = read_rttm(rttm_path)
    hypothesis = [(t.start, t.end, str(t.speaker)) for t in result.turns[0]]
    return {
        "file": audio_path.name,
        "der_0": diarization_error(reference, hypothesis, 0.0).der,
        "der_25": diarization_error(reference, hypothesis, 0.25).der,
        "found": len(result.voices),
        "true": len({name for _, _, name in reference}),
        "rtf": seconds / (len(audio) / SAMPLE_RATE),
    }


def measure_diarizer(step: float, minutes: float, runs: int, threads: int, pairs: list[tuple[Path, Path]]) -> dict:
    began = time.perf_counter()
    diarizer = Diarizer(threads=threads, step=step)
    load = time.perf_counter() - began
    files = [accuracy(diarizer, audio, rttm) for audio, rttm in pairs]
    audio = long_recording(minutes)
    rtfs = []
    for _ in range(runs):
        began = time.perf_counter()
        result = diarizer.diarize(audio)
        rtfs.append((time.perf_counter() - began) / (len(audio) / SAMPLE_RATE))
    return {
        "name": f"diarize, step {step:g} s",
        "load": load,
        "rtfs": rtfs,
        "files": files,
        "peak": _peak_mib(),
        "long_speakers": len(result.voices),
    }


def measure_transcriber(minutes: float, runs: int, threads: int) -> dict:
    began = time.perf_counter()
    from archive.transcribe import make_transcriber

    transcriber = make_transcriber(Settings.from_env(engine="faster-whisper", threads=threads))
    load = time.perf_counter() - began
    audio = long_recording(minutes)
    transcriber.transcribe(audio[: SAMPLE_RATE * 10])  # warm-up
    rtfs = []
    for _ in range(runs):
        began = time.perf_counter()
        transcriber.transcribe(audio)
        rtfs.append((time.perf_counter() - began) / (len(audio) / SAMPLE_RATE))
    return {"name": "transcribe, faster-whisper", "load": load, "rtfs": rtfs, "files": [], "peak": _peak_mib()}


# The long recording repeats sample.wav (two callers) and jfk.flac (one speaker).
LONG_RECORDING_SPEAKERS = 3


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def average_linkage_only(embeddings: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """The clustering before whole-meeting re-clustering: average linkage at 0.375, small clusters folded."""
    usable = (seconds >= 1.0) & (np.abs(embeddings).sum(axis=1) > 0)
    vectors, weights = embeddings[usable], seconds[usable]
    labels = fcluster(linkage(vectors, method="average", metric="cosine"), t=0.375, criterion="distance") - 1
    clusters = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    big = [c for c in clusters if weights[c].sum() >= 2.0] or [max(clusters, key=lambda c: weights[c].sum())]
    centroids = np.stack([weighted_mean(vectors[c], weights[c]) for c in big])
    for members in clusters:
        if not any(members is c for c in big):
            nearest = int(np.argmax(centroids @ weighted_mean(vectors[members], weights[members])))
            big[nearest] = np.concatenate([big[nearest], members])
    return np.stack([weighted_mean(vectors[c], weights[c]) for c in big]).astype(np.float32)


def load_local_speakers(path: Path) -> LocalSpeakers:
    saved = np.load(path)
    return LocalSpeakers(**{key: int(saved[key]) if key == "num_samples" else saved[key] for key in saved.files})


def measure_council(seed: int, minutes: float, folder: Path, reuse: bool) -> dict:
    """Runs in a child process: render (if not there yet), then diarize the meeting once and score it. The
    windows' embeddings are kept next to the meeting; with `reuse` they are read back instead of recomputed
    (clustering only: RTF and memory are then not the diarizer's)."""
    name = f"council-s{seed}" + ("" if minutes == 60 else f"-{minutes:g}m")
    if not (folder / f"{name}.wav").exists():
        recipe = ROOT / "tests" / "fixtures" / "council" / "make_council.py"
        subprocess.run(
            [sys.executable, str(recipe), str(folder), "--seed", str(seed), "--minutes", str(minutes)], check=True
        )
    cached = folder / f"{name}.local.npz"
    diarizer = Diarizer(threads=1)
    began, cpu = time.perf_counter(), time.process_time()
    if reuse and cached.exists():  # the windows' embeddings of an earlier run: a clustering variant costs seconds
        local = load_local_speakers(cached)
    else:
        _, audio = decode_audio(folder / f"{name}.wav", name=name)
        local = diarizer.local_speakers(audio)
        del audio
        np.savez(cached, **dataclasses.asdict(local))
    result = diarizer.cluster([local])
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    seconds = local.num_samples / SAMPLE_RATE
    reference = read_rttm(folder / f"{name}.rttm")
    before_labels, before_centroids = assign_units(
        [local], average_linkage_only(local.unit_embeddings, local.unit_seconds)
    )
    before = reconstruct(local, before_labels[0], len(before_centroids)).turns
    return {
        "name": name,
        "seconds": seconds,
        "der": diarization_error(reference, [(t.start, t.end, str(t.speaker)) for t in result.turns[0]], 0.25).der,
        "voices": len(result.voices),
        "der_before": diarization_error(reference, [(t.start, t.end, str(t.speaker)) for t in before], 0.25).der,
        "voices_before": len({t.speaker for t in before}),
        "overlaps": len(result.overlaps[0]),
        "rtf": float("nan") if reuse else wall / seconds,
        "rtf_cpu": float("nan") if reuse else cpu / seconds,
        "peak": _peak_mib(),
    }


def council(seeds: list[int], minutes: float, folder: Path, reuse: bool) -> None:
    print(f"twelve-voice council meeting(s), {minutes:g} minutes, one thread; DER collar 0.25 s")
    header = ["DER before", "voices", "DER after", "voices", "overlaps", "RTF", "RTF cpu", "peak MiB"]
    print(f"{'meeting':<16}" + "".join(f"{h:>11}" for h in header))
    for seed in seeds:
        command = [
            sys.executable,
            __file__,
            "--child",
            f"council:{seed}",
            "--minutes",
            str(minutes),
            "--folder",
            str(folder),
            *(["--reuse"] if reuse else []),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{r['name']:<16}{r['der_before']:>11.3f}{r['voices_before']:>8}/12{r['der']:>11.3f}{r['voices']:>8}/12"
            f"{r['overlaps']:>11}{r['rtf']:>11.3f}{r['rtf_cpu']:>11.3f}{r['peak']:>11.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pairs", nargs="*", help="further AUDIO=RTTM files to score")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", default="5,2.5", help="window steps in seconds, compared side by side")
    parser.add_argument("--council", help="seeds of twelve-voice council meetings to render and score, e.g. 1,2,3")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/testimony-council"), help="where meetings render")
    parser.add_argument(
        "--reuse", action="store_true", help="--council: cluster the embeddings kept from an earlier run (seconds)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child and args.child.startswith("council:"):
        print(json.dumps(measure_council(int(args.child.split(":")[1]), args.minutes, args.folder, args.reuse)))
        return
    if args.council:
        seeds = [int(seed) for seed in args.council.split(",")]
        council(seeds, args.minutes if args.minutes != 10 else 60, args.folder, args.reuse)
        return
    pairs = FIXTURES + [(Path(a), Path(r)) for a, r in (pair.split("=", 1) for pair in args.pairs)]

    if args.child:
        if args.child == "transcribe":
            result = measure_transcriber(args.minutes, args.runs, args.threads)
        else:
            result = measure_diarizer(float(args.child), args.minutes, args.runs, args.threads, pairs)
        print(json.dumps(result))
        return

    results = []
    for child in [*args.steps.split(","), "transcribe"]:
        command = [sys.executable, __file__, *args.pairs, "--child", child, "--minutes", str(args.minutes)]
        command += ["--runs", str(args.runs), "--threads", str(args.threads)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))

    print(f"{args.minutes:g}-minute recording, {args.runs} run(s), {args.threads} thread(s)")
    print(f"{'':<28}{'load s':>8}{'RTF median':>12}{'RTF runs':>24}{'peak MiB':>10}")
    for r in results:
        runs = " ".join(f"{x:.3f}" for x in r["rtfs"])
        print(f"{r['name']:<28}{r['load']:>8.2f}{statistics.median(r['rtfs']):>12.3f}{runs:>24}{r['peak']:>10.0f}")
    transcribe = statistics.median(results[-1]["rtfs"])
    for r in results[:-1]:
        ratio = statistics.median(r["rtfs"]) / transcribe
        print(f"ratio: {r['name']} takes {ratio:.2f}× the time of faster-whisper transcription")
    for r in results[:-1]:
        found = r["long_speakers"]
        print(f"{r['name']}: {found} speakers found in the long recording ({LONG_RECORDING_SPEAKERS} true)")
    print()
    print(f"{'':<28}{'file':<22}{'DER c=0':>9}{'DER c=.25':>11}{'found/true':>12}{'RTF':>8}")
    for r in results[:-1]:
        for f in r["files"]:
            count = f"{f['found']}/{f['true']}"
            print(f"{r['name']:<28}{f['file']:<22}{f['der_0']:>9.3f}{f['der_25']:>11.3f}{count:>12}{f['rtf']:>8.3f}")


if __name__ == "__main__":
    main()
