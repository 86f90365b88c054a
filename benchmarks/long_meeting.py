"""A long meeting through the worker, end to end: time, real-time factor and peak memory per stage.

Builds an --hours long FLAC from the fixtures' speech (sample.wav's two voices and jfk.flac, streamed to a
temporary file, so building it costs no memory), then, in a fresh process, runs it as the worker does: an upload
job (archive.worker.jobs.submit_upload + run_job) stores, decodes, transcribes with tiny.en (faster-whisper,
or openai-whisper with --engine whisper; one thread), diarizes and indexes it (SQLite + Whoosh in a temporary
archive home).

The stages are timed by wrapping the functions that do them (the innermost running stage gets the time), and a
thread samples the resident memory (VmRSS) of the worker, and of the worker and its decoder child together (the
child runs while the worker waits for it), every 20 ms:

- decode: the sandboxed decoder child (probe on upload, then once for transcription and once for diarization);
- voice activity: Silero VAD inside the transcription windows;
- transcription: the rest of transcription (windows, language identification, Whisper, gaps);
- diarization: segmentation, embeddings, clustering and saving the speakers;
- saving and indexing: the segments' transaction and the search index;
- loading models, and the rest (the job's bookkeeping).

The high-water column is the process's peak resident memory (ru_maxrss) as it stood after the stage last raised
it: the stage where it is highest is the one that set the worker's peak, however short that peak was.

A dense meeting (speech throughout) costs about 0.3 s of CPU per audio second on this machine; --speech-every
makes a sparse one, --speech-seconds of speech every --speech-every seconds and digital silence between (silent
transcription windows are skipped; diarization still slides over every window), for the memory of long ones.

    .venv/bin/python benchmarks/long_meeting.py --hours 10 --speech-every 600   # 30 s of speech every 10 min
    .venv/bin/python benchmarks/long_meeting.py --hours 0.34                     # a dense 20-minute meeting
    .venv/bin/python benchmarks/long_meeting.py --council 1                      # the twelve-voice council hour

--council SEED runs the synthetic twelve-voice council meeting (tests/fixtures/council, rendered into --folder
if not there yet; --minutes shortens it) instead, and scores the speakers the job saved against its truth (DER,
collar 0.25 s, and voices found of twelve). Each stage's CPU seconds (the worker's threads and its finished
decoder children) are given beside its wall seconds: on a loaded machine CPU is the steadier figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.factories.media import speech  # noqa: E402

SAMPLE_RATE = 16_000
CHUNK = SAMPLE_RATE  # the meeting is written a second at a time
STAGES = (
    "decode",
    "voice activity",
    "transcription",
    "diarization",
    "saving and indexing",
    "loading models",
    "the rest",
)


def meeting_seconds(hours: float, speech_every: float, speech_seconds: float) -> Iterator[np.ndarray]:
    """The meeting, a second at a time: the fixtures' speech going on from where it stopped, during the first
    `speech_seconds` of every `speech_every` seconds (all the time when speech_every is 0), silence otherwise."""
    pause = np.zeros(SAMPLE_RATE, np.float32)
    voices = np.concatenate([speech("sample.wav"), pause, speech("jfk.flac"), pause])
    spoken = 0
    for second in range(int(hours * 3600)):
        if speech_every and second % speech_every >= speech_seconds:
            yield np.zeros(CHUNK, np.float32)
            continue
        yield voices[(spoken + np.arange(CHUNK)) % len(voices)]
        spoken += CHUNK


def write_meeting(path: Path, chunks: Iterator[np.ndarray]) -> float:
    """FLAC, 16-bit (silence costs nothing in it); returns the speech's share of the meeting."""
    loud = total = 0
    with av.open(str(path), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=SAMPLE_RATE, layout="mono")
        written = 0
        for chunk in chunks:
            pcm = (np.clip(chunk, -1, 1) * 32767).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, written, Fraction(1, SAMPLE_RATE)
            out.mux(stream.encode(frame))
            written += len(pcm)
            loud += int(np.any(pcm != 0))
            total += 1
        out.mux(stream.encode(None))
    return loud / max(total, 1)


# --- the measured process ----------------------------------------------------------------------------------------


class Stages:
    """Exclusive time per stage (the innermost running one) and the peak resident memory, process and children
    together, sampled while each stage ran."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.cpu = dict.fromkeys(STAGES, 0.0)  # the worker's threads and its decoder children, once they end
        self.peak = dict.fromkeys(STAGES, 0.0)  # the worker's resident memory (VmRSS)
        self.peak_children = dict.fromkeys(STAGES, 0.0)  # the worker's and its decoder child's
        # The process's high-water mark (VmHWM) when it rose while the stage ran: unlike the samples, it misses no
        # short peak, so the stage holding ru_maxrss is known.
        self.high_water = dict.fromkeys(STAGES, 0.0)
        self.last_high_water = 0.0
        self.calls = dict.fromkeys(STAGES, 0)
        self.running: list[str] = []
        self.since = time.perf_counter()
        self.cpu_since = cpu_seconds()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sampler = threading.Thread(target=self._sample, daemon=True)

    def _switch(self, change: Callable[[], None]) -> None:
        with self.lock:
            now, cpu = time.perf_counter(), cpu_seconds()
            self._note_high_water(high_water_mib())
            self.seconds[self.current] += now - self.since
            self.cpu[self.current] += cpu - self.cpu_since
            self.since, self.cpu_since = now, cpu
            change()

    @property
    def current(self) -> str:
        return self.running[-1] if self.running else "the rest"

    @contextmanager
    def stage(self, stage: str) -> Iterator[None]:
        self._switch(lambda: self.running.append(stage))
        self.calls[stage] += 1
        try:
            yield
        finally:
            self._switch(self.running.pop)

    def wrap(self, owner: Any, name: str, stage: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.stage(stage):
                return original(*args, **kwargs)

        setattr(owner, name, timed)

    def _note_high_water(self, high_water: float) -> None:
        if high_water > self.last_high_water:
            self.high_water[self.current] = self.last_high_water = high_water

    def _sample(self) -> None:
        pid = os.getpid()
        while not self.stop.wait(0.02):
            rss, together, high_water = rss_mib(pid), with_children_mib(pid), high_water_mib()
            with self.lock:
                self._note_high_water(high_water)
                self.peak[self.current] = max(self.peak[self.current], rss)
                self.peak_children[self.current] = max(self.peak_children[self.current], together)

    def __enter__(self) -> Stages:
        self.sampler.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._switch(lambda: None)
        self.stop.set()
        self.sampler.join()


def cpu_seconds() -> float:
    """CPU seconds of this process (all its threads) and of its children that have ended."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def rss_mib(pid: int) -> float:
    """A process's resident memory (VmRSS), MiB; 0 once it has ended."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in lines if line.startswith("VmRSS:")), 0.0)


def high_water_mib() -> float:
    """This process's peak resident memory so far (ru_maxrss), MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def with_children_mib(pid: int) -> float:
    """Resident memory of the worker and of its children that run a program of their own: a child forked from the
    worker shares the worker's pages until it execs (the same command line), and would count them twice."""
    own = Path(f"/proc/{pid}/cmdline").read_bytes()
    total = rss_mib(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
            total += sum(rss_mib(c) for c in children if Path(f"/proc/{c}/cmdline").read_bytes() != own)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def measure(path: Path, engine: str, threads: int, truth: Path | None) -> None:
    """Run the recording through the worker's code path in a fresh archive home; print one JSON line."""
    from sqlalchemy import func, select

    import archive.ingest.pipeline as pipeline
    import archive.media.decode as decode
    import archive.search.sync as sync
    import archive.transcribe.activity as activity
    from archive.config import Settings
    from archive.db.models import Job, Segment, Speaker
    from archive.home import init_home
    from archive.ingest.pipeline import MeetingInfo
    from archive.speakers.diarize import Diarizer
    from archive.transcribe import make_transcriber
    from archive.worker.jobs import run_job, submit_upload, uploads_dir

    stages = Stages()
    stages.wrap(decode, "_run_child", "decode")
    stages.wrap(activity, "speech_stretches", "voice activity")
    stages.wrap(pipeline, "transcribe_meeting", "transcription")
    stages.wrap(pipeline, "diarize_meeting", "diarization")
    stages.wrap(pipeline, "save_transcript", "saving and indexing")
    stages.wrap(sync, "index_meeting", "saving and indexing")

    def load_transcriber(settings: Settings) -> Any:
        with stages.stage("loading models"):
            return make_transcriber(settings)

    def load_diarizer(settings: Settings) -> Diarizer:
        with stages.stage("loading models"):
            return Diarizer(threads=settings.threads)

    with tempfile.TemporaryDirectory(prefix="testimony-long-") as home:
        settings = Settings.from_env(
            home=Path(home), engine=engine, model="tiny.en", threads=threads, languages=("en",)
        )
        sessions = init_home(settings)
        uploads_dir(settings).mkdir(parents=True, exist_ok=True)
        upload = uploads_dir(settings) / f"meeting{path.suffix}"
        shutil.copyfile(path, upload)
        info = MeetingInfo(body="Benchmark Council", title="A long meeting", date=dt.date(2026, 1, 5))
        job, _ = submit_upload(sessions, settings, upload, info, engine=engine, model="tiny.en")
        began, cpu = time.perf_counter(), time.process_time()
        with stages:
            run_job(settings, sessions, job.id, load_transcriber=load_transcriber, load_diarizer=load_diarizer)
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu
        job_peak = high_water_mib()  # before the scoring below, which is the benchmark's, not the worker's
        with sessions() as session:
            finished = session.get_one(Job, job.id)
            segments = session.scalar(select(func.count(Segment.id)))
            speakers = session.scalar(select(func.count(Speaker.id)))
            status, error = finished.status, finished.error
            voices = session.scalars(select(Speaker)).all()
            turns = [(start, end, voice.label) for voice in voices for start, end in voice.turns]
    scores = {}
    if truth:  # the saved speakers against the council meeting's truth
        from archive.speakers.evaluate import diarization_error, read_rttm

        reference = read_rttm(truth)
        scores = {"der": diarization_error(reference, turns, 0.25).der, "true": len({n for _, _, n in reference})}
    print(
        json.dumps(
            {
                "status": status,
                "error": error,
                "segments": segments,
                "speakers": speakers,
                "wall": wall,
                "cpu": cpu,
                "seconds": stages.seconds,
                "cpu_seconds": stages.cpu,
                **scores,
                "calls": stages.calls,
                "peak": stages.peak,
                "peak_children": stages.peak_children,
                "high_water": stages.high_water,
                "process_peak": job_peak,
            }
        )
    )


def report(result: dict[str, Any], duration: float) -> None:
    print(f"job {result['status']}{': ' + result['error'] if result['error'] else ''}")
    print(f"{result['segments']} segments, {result['speakers']} speakers")
    if "der" in result:
        found = f"{result['speakers']}/{result['true']}"
        print(f"speakers against the truth: DER {result['der']:.3f} (collar 0.25 s), voices found {found}")
    print(
        f"{'stage':<22}{'wall s':>9}{'RTF':>9}{'CPU s':>9}{'CPU RTF':>9}{'worker MiB':>12}{'+children MiB':>15}"
        f"{'high water':>12}  calls"
    )
    for stage in STAGES:
        seconds, cpu = result["seconds"][stage], result["cpu_seconds"][stage]
        high_water = f"{result['high_water'][stage]:.0f}" if result["high_water"][stage] else ""  # rose here
        print(
            f"{stage:<22}{seconds:>9.1f}{seconds / duration:>9.4f}{cpu:>9.1f}{cpu / duration:>9.4f}"
            f"{result['peak'][stage]:>12.0f}{result['peak_children'][stage]:>15.0f}"
            f"{high_water:>12}  {result['calls'][stage] or ''}"
        )
    worker, children = max(result["peak"].values()), max(result["peak_children"].values())
    cpu = sum(result["cpu_seconds"].values())
    print(
        f"{'whole job':<22}{result['wall']:>9.1f}{result['wall'] / duration:>9.4f}{cpu:>9.1f}{cpu / duration:>9.4f}"
        f"{worker:>12.0f}{children:>15.0f}"
    )
    print(f"worker process peak through the job (ru_maxrss): {result['process_peak']:.0f} MiB")


def council(seed: int, minutes: float, folder: Path, engine: str, threads: int) -> None:
    name = f"council-s{seed}" + ("" if minutes == 60 else f"-{minutes:g}m")
    wav = folder / f"{name}.wav"
    if not wav.exists():
        recipe = ROOT / "tests" / "fixtures" / "council" / "make_council.py"
        command = [sys.executable, str(recipe), str(folder), "--seed", str(seed), "--minutes", str(minutes)]
        subprocess.run(command, check=True)
    duration = av.open(str(wav)).duration / 1_000_000  # type: ignore[operator]
    print(f"{name}: the twelve-voice council meeting, {duration / 60:.1f} minutes")
    command = [sys.executable, __file__, "--measure", str(wav), "--truth", str(folder / f"{name}.rttm")]
    command += ["--engine", engine, "--threads", str(threads)]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    report(json.loads(done.stdout.strip().splitlines()[-1]), duration)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--speech-every", type=float, default=0.0, help="seconds; 0: speech throughout")
    parser.add_argument("--speech-seconds", type=float, default=30.0, help="speech at the start of each period")
    parser.add_argument("--engine", choices=("faster-whisper", "whisper"), default="faster-whisper")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--council", type=int, metavar="SEED", help="the twelve-voice council meeting of this seed")
    parser.add_argument("--minutes", type=float, default=60.0, help="--council: the meeting's length")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/testimony-council"), help="where it renders")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--truth", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.engine, args.threads, args.truth)
        return
    if args.council is not None:
        council(args.council, args.minutes, args.folder, args.engine, args.threads)
        return
    with tempfile.TemporaryDirectory(prefix="testimony-long-") as tmp:
        path = Path(tmp) / "meeting.flac"
        began = time.perf_counter()
        share = write_meeting(path, meeting_seconds(args.hours, args.speech_every, args.speech_seconds))
        size, seconds = path.stat().st_size / 2**20, time.perf_counter() - began
        every = f"{args.speech_seconds:g} s of speech every {args.speech_every:g} s" if args.speech_every else "dense"
        print(f"{args.hours:g} h meeting ({every}; speech {share:.0%}): {size:.0f} MiB FLAC, built in {seconds:.0f} s")
        command = [sys.executable, __file__, "--measure", str(path), "--engine", args.engine]
        command += ["--threads", str(args.threads)]
        done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
        report(json.loads(done.stdout.strip().splitlines()[-1]), args.hours * 3600)


if __name__ == "__main__":
    main()
