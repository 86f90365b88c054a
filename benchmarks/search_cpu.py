"""CPU per uncached search page, in one process: what `benchmarks/search_pages.py`'s uncached run pays per request
on a quiet machine, without wrk or gunicorn, so it can be measured on a busy one (issue 17).

    .venv/bin/python benchmarks/search_cpu.py                                # 200 meetings × 500 segments
    .venv/bin/python benchmarks/search_cpu.py --archive /tmp/site --against main --rounds 3

The archive is benchmarks/site.py's (SQLite and Whoosh). Each round runs in a fresh process: the application as
one `testimony serve` process makes it (archive.web.server.server_app, page cache off), 100 searches to warm it,
then --queries distinct `/search?q=<one or two words>` pages (search_pages.py's uncached load) through Flask's test
client, timed with time.process_time(): CPU-milliseconds per page, whatever else the machine is doing.

--against REF measures the code at a git ref too (its `archive/` package, extracted to a temporary folder), in
alternating rounds on the same archive and queries, and prints the ratio of the medians: a before/after that holds
on a shared machine. --profile FILE writes this checkout's cProfile statistics of one more round, not counted in
the figures (pstats format).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARM = 100  # searches before the timed ones: the index's columns read, the templates compiled


def measure(code: Path, home: Path, paths: list[str], profile: Path | None) -> dict[str, float]:
    """In this process (a child of main): the app from `code`'s archive package, the pages timed one by one."""
    sys.path.insert(0, str(code))
    import archive
    from archive.config import Settings
    from archive.web.server import server_app

    if not Path(archive.__file__).is_relative_to(code):  # the editable install must not win over `code`
        raise SystemExit(f"imported {archive.__file__}, not the code in {code}")
    settings = Settings.from_env({"TESTIMONY_HOME": str(home), "TESTIMONY_PAGE_CACHE_MB": "0"})
    with tempfile.TemporaryDirectory(prefix="testimony-search-cpu-") as pages:
        app = server_app(settings, Path(pages))
        client = app.test_client(use_cookies=False)
        for path in paths[:WARM]:
            if client.get(path).status_code != 200:
                raise SystemExit(f"{path}: not a 200")
        timed = paths[WARM:]
        if profile is not None:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        cpu = []
        for path in timed:
            began = time.process_time()
            client.get(path)
            cpu.append(time.process_time() - began)
        if profile is not None:
            profiler.disable()
            profiler.dump_stats(profile)
    cpu.sort()
    return {
        "mean": 1000 * statistics.fmean(cpu),
        "p50": 1000 * cpu[len(cpu) // 2],
        "p95": 1000 * cpu[int(len(cpu) * 0.95)],
    }


def extracted(ref: str, into: Path) -> Path:
    """The archive package as it is at `ref` (git archive), beside nothing else: a code root to import from."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "archive"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def round_in_child(code: Path, home: Path, paths_file: Path, profile: Path | None) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", str(code), "--archive", str(home), "--paths", str(paths_file)]
    if profile is not None:
        command += ["--profile", str(profile)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=200)
    parser.add_argument("--segments", type=int, default=500, help="segments per meeting")
    parser.add_argument("--archive", type=Path, help="build the archive here and keep it; reused when it exists")
    parser.add_argument("--queries", type=int, default=300, help="timed searches per round, all different")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per code tree (medians reported)")
    parser.add_argument("--against", metavar="REF", help="a git ref to measure beside this checkout (before/after)")
    parser.add_argument("--profile", type=Path, help="cProfile statistics of one more round of this checkout")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # a round: the code root to import
    parser.add_argument("--paths", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        paths = json.loads(args.paths.read_text())
        print(json.dumps(measure(args.child, args.archive, paths, args.profile)))
        return

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from search_pages import search_paths, site_benchmark

    with tempfile.TemporaryDirectory(prefix="testimony-search-cpu-") as tmp:
        home = args.archive or Path(tmp) / "home"
        if (home / "archive.db").exists():
            print(f"archive: {home} reused")
        else:
            began = time.perf_counter()
            site_benchmark.build_archive(home, args.meetings, args.segments)
            took = time.perf_counter() - began
            print(f"archive: {args.meetings} meetings × {args.segments} segments, built in {took:.0f} s")
        paths_file = Path(tmp) / "paths.json"
        paths_file.write_text(json.dumps(search_paths("uncached", random.Random(7), WARM + args.queries)))
        trees = {"this checkout": ROOT}
        if args.against:
            trees = {args.against: extracted(args.against, Path(tempfile.mkdtemp(dir=tmp))), **trees}
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for _ in range(args.rounds):  # alternating, so a busy minute on the machine falls on both
            for name, code in trees.items():
                rounds[name].append(round_in_child(code, home, paths_file, None))
        if args.profile:  # a round of its own: the profiler slows the code it watches
            round_in_child(ROOT, home, paths_file, args.profile)
            print(f"profile of this checkout: {args.profile} (python -m pstats {args.profile})")
        print(f"CPU-ms per uncached search page, {args.queries} searches × {args.rounds} rounds (medians of rounds)")
        print(f"{'code':<16}{'mean':>8}{'p50':>8}{'p95':>8}   rounds (mean)")
        medians = {}
        for name, found in rounds.items():
            medians[name] = {key: statistics.median(r[key] for r in found) for key in ("mean", "p50", "p95")}
            each = ", ".join(f"{r['mean']:.2f}" for r in found)
            m = medians[name]
            print(f"{name:<16}{m['mean']:>8.2f}{m['p50']:>8.2f}{m['p95']:>8.2f}   {each}")
        if args.against:
            ratio = medians["this checkout"]["mean"] / medians[args.against]["mean"]
            print(f"ratio (this checkout / {args.against}, mean): {ratio:.2f}")


if __name__ == "__main__":
    main()
