"""Transcription speed and accuracy of both engines, side by side, in one run.

Two suites, each engine in its own child process (so peak memory belongs to that engine and suite alone):

- english: tiny.en, English only (the default archive). Model load time, a warm-up, the median real-time factor
  (processing seconds per audio second) over --runs passes of a --minutes long recording built from the test
  fixtures, peak resident memory, and the word error rate on jfk.flac, sample.wav and the demo meeting.
- multilingual: base with languages en,es (the default as soon as Spanish is configured) on the Spanish fixtures
  (tests/fixtures/spanish): Spanish WER of the testimony, Spanish and English WER of the interpreted meeting
  (words normalised as the targets say: Whisper's English normaliser; for Spanish lower case without
  punctuation or accents), turns that came out in their language, the median real-time factor of each over
  --runs passes, what language identification and voice activity cost as a share of the transcription, and
  peak memory. Then identification itself: each stretch of at least 3 s identified on its own frames (what the
  archive does) and padded to 30 s (what Whisper does), timed, and whether the two agree.

    .venv/bin/python benchmarks/transcribe.py                 # both suites, 10 minutes, 3 runs, 1 thread
    .venv/bin/python benchmarks/transcribe.py --suite multilingual --runs 3
    .venv/bin/python benchmarks/transcribe.py --suite english --minutes 2 --runs 1 --threads 2
    .venv/bin/python benchmarks/transcribe.py --suite glossary --engines faster-whisper

- glossary: tiny.en and base, English, each without and with a glossary (the initial prompt), on the glossary
  fixtures (tests/fixtures/glossary: a meeting of local names and places in five voices, and the testimony that a
  prompt makes tiny.en skip) and the demo meeting (with a 4-term glossary of its names): WER, names-and-places
  accuracy (the share of the glossary's terms said that come out right), speech left without words (seconds of
  voice activity no word covers), the guard's checks (spans re-transcribed without the glossary), whether the
  hot-mic remark's "here illegally" is written, and the real-time factor of one run.
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
SPANISH = FIXTURES / "spanish"
DEMO = ROOT / "archive" / "demo"
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


def english(engine: str, minutes: float, runs: int, threads: int, beam_size: int) -> dict[str, object]:
    """tiny.en, English only: runs inside the child process for one engine."""
    settings = Settings.from_env(engine=engine, threads=threads, beam_size=beam_size)
    began = time.perf_counter()
    transcriber = make_transcriber(settings)
    load_seconds = time.perf_counter() - began

    _, jfk = decode_audio(FIXTURES / "jfk.flac")
    jfk_text = transcriber.transcribe(jfk).text  # also the warm-up
    _, sample = decode_audio(FIXTURES / "sample.wav")
    sample_text = transcriber.transcribe(sample).text
    _, demo = decode_audio(DEMO / "demo-meeting.ogg")
    demo_text = transcriber.transcribe(demo).text
    script = json.loads((DEMO / "script.json").read_text(encoding="utf-8"))

    audio = long_recording(minutes)
    rtfs, cpu_rtfs = [], []
    for _ in range(runs):
        began, cpu = time.perf_counter(), time.process_time()
        transcriber.transcribe(audio)
        rtfs.append((time.perf_counter() - began) / (len(audio) / SAMPLE_RATE))
        cpu_rtfs.append((time.process_time() - cpu) / (len(audio) / SAMPLE_RATE))
    return {
        "engine": engine,
        "load_seconds": load_seconds,
        "rtf_median": statistics.median(rtfs),
        "rtf_runs": rtfs,
        "cpu_rtf_median": statistics.median(cpu_rtfs),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "wer_jfk": word_error_rate(JFK_TRUTH, jfk_text),
        "wer_sample": word_error_rate(reference_text(FIXTURES / "sample.stm"), sample_text),
        "wer_demo": word_error_rate(" ".join(turn["text"] for turn in script), demo_text),
        "jfk_text": jfk_text,
    }


def multilingual(engine: str, runs: int, threads: int, beam_size: int) -> dict[str, object]:
    """base with languages en,es on the Spanish fixtures: runs inside the child process for one engine."""
    from archive.transcribe import activity
    from archive.transcribe.evaluate import turn_scores

    settings = Settings.from_env(engine=engine, threads=threads, beam_size=beam_size, languages=("en", "es"))
    began = time.perf_counter()
    transcriber = make_transcriber(settings)
    load_seconds = time.perf_counter() - began

    # What identification and voice activity cost: both wrapped in a timer for the whole run.
    spent = {"identify": 0.0, "activity": 0.0}
    identify, stretches = transcriber.identify, activity.speech_stretches

    def timed_identify(samples: np.ndarray) -> dict[str, float]:
        began = time.perf_counter()
        try:
            return identify(samples)
        finally:
            spent["identify"] += time.perf_counter() - began

    def timed_stretches(samples: np.ndarray) -> list[activity.Stretch]:
        began = time.perf_counter()
        try:
            return stretches(samples)
        finally:
            spent["activity"] += time.perf_counter() - began

    transcriber.identify = timed_identify  # type: ignore[method-assign]
    activity.speech_stretches = timed_stretches  # type: ignore[assignment]

    _, jfk = decode_audio(FIXTURES / "jfk.flac")
    transcriber.transcribe(jfk)  # warm-up
    result: dict[str, object] = {"engine": engine, "load_seconds": load_seconds}
    total = 0.0
    spent.update(identify=0.0, activity=0.0)
    for name in ("testimony-es", "interpreted-meeting"):
        _, audio = decode_audio(SPANISH / f"{name}.ogg")
        turns = json.loads((SPANISH / f"{name}.json").read_text(encoding="utf-8"))["turns"]
        rtfs, cpu_rtfs = [], []
        for _ in range(runs):
            began, cpu = time.perf_counter(), time.process_time()
            transcript = transcriber.transcribe(audio)
            rtfs.append((time.perf_counter() - began) / (len(audio) / SAMPLE_RATE))
            cpu_rtfs.append((time.process_time() - cpu) / (len(audio) / SAMPLE_RATE))
            total += time.perf_counter() - began
        scores = turn_scores(turns, transcript.segments)
        result[name] = {
            "rtf_median": statistics.median(rtfs),
            "rtf_runs": rtfs,
            "cpu_rtf_median": statistics.median(cpu_rtfs),
            "wer": scores.wer,
            "turns_right": scores.turns_right,
            "turns": len(turns),
            "gaps": len(transcript.gaps),
        }
    result["identify_share"] = spent["identify"] / total
    result["activity_share"] = spent["activity"] / total
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["identification"] = identification(transcriber, identify)
    return result


def identification(transcriber, identify) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Each stretch of at least 3 s of both fixtures identified as the archive does (its first IDENTIFY_SECONDS,
    on their own frames) and by Whisper's rule (the same audio padded to 30 s)."""
    from archive.transcribe.activity import speech_stretches
    from archive.transcribe.languages import IDENTIFY_SECONDS, restricted

    own, padded, agree = [], [], 0
    for name in ("testimony-es", "interpreted-meeting"):
        _, audio = decode_audio(SPANISH / f"{name}.ogg")
        for stretch in speech_stretches(audio):
            if stretch.duration < 3:
                continue
            samples = stretch.samples(audio)[: IDENTIFY_SECONDS * SAMPLE_RATE]
            began = time.perf_counter()
            mine = restricted(identify(samples), ("en", "es"))[0]
            own.append(time.perf_counter() - began)
            began = time.perf_counter()
            theirs = restricted(identify(np.pad(samples, (0, 30 * SAMPLE_RATE - len(samples)))), ("en", "es"))[0]
            padded.append(time.perf_counter() - began)
            agree += mine == theirs
    return {
        "stretches": len(own),
        "own_ms": 1000 * statistics.median(own),
        "padded_ms": 1000 * statistics.median(padded),
        "agree": agree,
    }


DEMO_TERMS = ("Vermont Criminal Justice Council", "Fair and Impartial Policing Policy", "Rosa", "Carlos")


def glossary_suite(engine: str, threads: int, beam_size: int) -> dict[str, object]:
    import tempfile

    from archive.transcribe.activity import speech_stretches
    from archive.transcribe.evaluate import terms_right
    from archive.transcribe.glossary import Glossary, read_glossary
    from archive.transcribe.guard import covered_seconds

    folder = FIXTURES / "glossary"
    built = Path(tempfile.mkdtemp())
    subprocess.run([sys.executable, str(folder / "make_glossary.py"), str(built)], check=True)
    terms = tuple(read_glossary(folder / "glossary.txt"))
    recordings = {
        "glossary-meeting": (folder / "glossary-meeting.ogg", folder / "glossary-meeting.stm", terms),
        "glossary-testimony": (built / "glossary-testimony.wav", built / "glossary-testimony.stm", terms),
        "demo": (DEMO / "demo-meeting.ogg", DEMO / "demo-meeting.stm", DEMO_TERMS),
    }
    rows = []
    for model in ("tiny.en", "base"):
        transcriber = make_transcriber(
            Settings(engine=engine, model=model, threads=threads, beam_size=beam_size, languages=("en",))
        )
        for name, (audio_path, stm, said_terms) in recordings.items():
            _, audio = decode_audio(audio_path)
            speech = speech_stretches(audio)
            reference = reference_text(stm)
            for guided in (False, True):
                glossary = Glossary(said_terms) if guided else None
                transcript = transcriber.transcribe(audio, glossary=glossary)
                right, said = terms_right(said_terms, reference, transcript.text)
                uncovered = sum(s.duration for s in speech) - covered_seconds(speech, list(transcript.segments))
                rows.append(
                    {
                        "model": model,
                        "recording": name,
                        "glossary": guided,
                        "wer": round(word_error_rate(reference, transcript.text), 3),
                        "terms_right": right,
                        "terms_said": said,
                        "uncovered_seconds": round(uncovered, 1),
                        "guard_spans": [[c.start, c.end, c.guided_seconds, c.kept] for c in transcript.checks],
                        "hot_mic": "here illegally" in transcript.text.lower(),
                        "rtf": round(transcript.processing_seconds / transcript.duration, 3),
                    }
                )
    return {"engine": engine, "rows": rows}


def print_glossary(results: list[dict], args: argparse.Namespace) -> None:  # type: ignore[type-arg]
    print(f"\nglossary: English, the glossary as the initial prompt, beam {args.beam_size}, {args.threads} thread(s)")
    print(
        f"{'engine':<16}{'model':<9}{'recording':<20}{'glossary':<10}{'WER':>7}{'names':>9}{'unwritten s':>13}"
        f"{'hot mic':>9}{'RTF':>7}  guard"
    )
    for r in results:
        for row in r["rows"]:
            guard = "; ".join(f"{a:.1f}–{b:.1f} ({g:.1f} s guided) kept {k}" for a, b, g, k in row["guard_spans"])
            print(
                f"{r['engine']:<16}{row['model']:<9}{row['recording']:<20}{'yes' if row['glossary'] else 'no':<10}"
                f"{row['wer']:>7.3f}{row['terms_right']:>5}/{row['terms_said']:<3}{row['uncovered_seconds']:>13.1f}"
                f"{'yes' if row['hot_mic'] else 'no':>9}{row['rtf']:>7.3f}  {guard or '—'}"
            )


def run_children(suite: str, args: argparse.Namespace) -> list[dict[str, object]]:
    results = []
    for engine in args.engines.split(","):
        command = [sys.executable, __file__, "--child", engine, "--suite", suite]
        for option in ("minutes", "runs", "threads", "beam_size"):
            command += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return results


def print_english(results: list[dict], args: argparse.Namespace) -> None:  # type: ignore[type-arg]
    print(
        "CPU RTF: processor seconds per audio second (one engine thread): on a shared machine, what a quiet one takes"
    )
    print(
        f"english: tiny.en, {args.minutes:g}-minute recording, {args.runs} run(s) after a warm-up, "
        f"{args.threads} thread(s), beam {args.beam_size}"
    )
    print(
        f"{'engine':<16}{'load s':>8}{'RTF median':>12}{'RTF runs':>24}{'CPU RTF':>9}{'peak MiB':>10}"
        f"{'WER jfk':>9}{'WER sample':>12}{'WER demo':>10}"
    )
    for r in results:
        runs = " ".join(f"{x:.3f}" for x in r["rtf_runs"])
        print(
            f"{r['engine']:<16}{r['load_seconds']:>8.2f}{r['rtf_median']:>12.3f}{runs:>24}{r['cpu_rtf_median']:>9.3f}"
            f"{r['peak_rss_mib']:>10.0f}{r['wer_jfk']:>9.3f}{r['wer_sample']:>12.3f}{r['wer_demo']:>10.3f}"
        )
    if len(results) == 2:
        fast, slow = sorted(results, key=lambda r: r["rtf_median"])
        print(
            f"ratio: {slow['engine']} takes {slow['rtf_median'] / fast['rtf_median']:.2f}× the time of {fast['engine']}"
        )
        same = results[0]["jfk_text"] == results[1]["jfk_text"]
        print(f"engines agree on jfk.flac word for word: {'yes' if same else 'no'}")


def print_multilingual(results: list[dict], args: argparse.Namespace) -> None:  # type: ignore[type-arg]
    print(f"\nmultilingual: base, languages en,es, {args.runs} run(s) after a warm-up, {args.threads} thread(s)")
    print(
        f"{'engine':<16}{'load s':>8}{'RTF testimony':>15}{'CPU RTF':>9}{'RTF meeting':>13}{'CPU RTF':>9}"
        f"{'peak MiB':>10}{'WER es':>8}"
        f"{'WER es mtg':>12}{'WER en mtg':>12}{'turns':>7}{'gaps':>6}{'LID share':>11}{'VAD share':>11}"
    )
    for r in results:
        testimony, meeting = r["testimony-es"], r["interpreted-meeting"]
        print(
            f"{r['engine']:<16}{r['load_seconds']:>8.2f}{testimony['rtf_median']:>15.3f}"
            f"{testimony['cpu_rtf_median']:>9.3f}{meeting['rtf_median']:>13.3f}{meeting['cpu_rtf_median']:>9.3f}"
            f"{r['peak_rss_mib']:>10.0f}{testimony['wer']['es']:>8.3f}{meeting['wer']['es']:>12.3f}"
            f"{meeting['wer']['en']:>12.3f}{meeting['turns_right']:>4}/{meeting['turns']:<2}"
            f"{testimony['gaps'] + meeting['gaps']:>6}{r['identify_share']:>11.1%}{r['activity_share']:>11.1%}"
        )
    print(
        "RTF runs: "
        + "; ".join(
            f"{r['engine']} testimony {' '.join(f'{x:.3f}' for x in r['testimony-es']['rtf_runs'])},"
            f" meeting {' '.join(f'{x:.3f}' for x in r['interpreted-meeting']['rtf_runs'])}"
            for r in results
        )
    )
    print("identification of the stretches of ≥ 3 s: on their own frames against padded to 30 s")
    for r in results:
        i = r["identification"]
        print(
            f"{r['engine']:<16}{i['stretches']} stretches, median {i['own_ms']:.0f} ms against {i['padded_ms']:.0f} ms"
            f" ({i['padded_ms'] / i['own_ms']:.1f}×), same language in {i['agree']} of {i['stretches']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=("english", "multilingual", "glossary", "both"), default="both")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--engines", default="faster-whisper,whisper")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        if args.suite == "english":
            found = english(args.child, args.minutes, args.runs, args.threads, args.beam_size)
        elif args.suite == "glossary":
            found = glossary_suite(args.child, args.threads, args.beam_size)
        else:
            found = multilingual(args.child, args.runs, args.threads, args.beam_size)
        print(json.dumps(found))
        return

    if args.suite in ("english", "both"):
        print_english(run_children("english", args), args)
    if args.suite in ("multilingual", "both"):
        print_multilingual(run_children("multilingual", args), args)
    if args.suite == "glossary":
        print_glossary(run_children("glossary", args), args)


if __name__ == "__main__":
    main()
