"""The site under load: `testimony serve` (gunicorn) on an archive of --meetings × --segments, driven on
loopback by wrk with 50 keep-alive connections for --seconds: search pages, meeting pages (one meeting of
2,000 segments among them) and API searches. Prints throughput, p50/p95/p99 and errors per kind of request.

    .venv/bin/python benchmarks/site.py                      # 200 meetings × 500 segments, 50 clients, 30 s
    .venv/bin/python benchmarks/site.py --meetings 20 --seconds 10

Side by side on the same archive: the server with its page cache (the default) and without it (the baseline),
each driven twice in a row: from a cold start (meeting pages kept at start, no search rendered yet), then warm.
Needs wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from search import Corpus  # noqa: E402  (benchmarks/search.py: the same synthetic speech)

from archive.config import Settings  # noqa: E402

BIG_MEETING_SEGMENTS = 2_000


def build_archive(home: Path, meetings: int, per_meeting: int) -> list[str]:
    """Meetings, speakers and segments written in bulk, then indexed; returns the meeting slugs."""
    from sqlalchemy import insert

    from archive.db.models import Body, Meeting, Person, Recording, Segment, Speaker, TranscriptionRun
    from archive.home import init_home
    from archive.search.index import open_backend, rebuild

    settings = Settings(home=home)
    sessions = init_home(settings)
    texts = (d.text for d in Corpus(meetings * per_meeting + BIG_MEETING_SEGMENTS).documents())
    now = dt.datetime.now(dt.UTC)
    slugs = []
    with sessions() as session, session.begin():
        session.execute(insert(Body), [{"id": 1, "name": "Synthetic Council", "slug": "synthetic-council"}])
        sizes = [per_meeting] * meetings + [BIG_MEETING_SEGMENTS]
        segment_id = 0
        for n, size in enumerate(sizes, start=1):
            slug = f"{dt.date(2015, 1, 1) + dt.timedelta(days=n * 3)}-meeting-{n}"
            slugs.append(slug)
            date = dt.date(2015, 1, 1) + dt.timedelta(days=n * 3)
            session.execute(
                insert(Meeting),
                [{"id": n, "slug": slug, "body_id": 1, "title": f"Meeting {n}", "date": date, "created_at": now}],
            )
            session.execute(
                insert(Recording),
                [
                    {
                        "id": n,
                        "sha256": f"{n:064x}",
                        "meeting_id": n,
                        "position": 0,
                        "offset": 0.0,
                        "suffix": ".wav",
                        "original_name": "x.wav",
                        "size": 1,
                        "container": "wav",
                        "duration": size * 6.0,
                        "has_video": False,
                        "streams": [],
                        "created_at": now,
                    }
                ],
            )
            session.execute(
                insert(TranscriptionRun),
                [
                    {
                        "id": n,
                        "recording_id": n,
                        "engine": "whisper",
                        "model": "tiny.en",
                        "engine_version": "bench",
                        "parameters": {},
                        "transcript_file": "x.json",
                        "transcript_sha256": "0" * 64,
                        "created_at": now,
                    }
                ],
            )
            people = [{"id": n * 10 + k, "name": f"Member {n}-{k}", "role": "member"} for k in range(5)]
            session.execute(insert(Person), people)
            session.execute(
                insert(Speaker),
                [
                    {
                        "id": n * 10 + k,
                        "meeting_id": n,
                        "label": f"SPEAKER_{k:02d}",
                        "person_id": n * 10 + k,
                        "attribution": "curator",
                    }
                    for k in range(5)
                ],
            )
            rows = []
            for i in range(size):
                segment_id += 1
                text = next(texts)
                words = [
                    {"word": w, "start": i * 6.0 + j * 0.3, "end": i * 6.0 + j * 0.3 + 0.25, "probability": 0.9}
                    for j, w in enumerate(text.split())
                ]
                rows.append(
                    {
                        "id": segment_id,
                        "meeting_id": n,
                        "recording_id": n,
                        "run_id": n,
                        "speaker_id": n * 10 + i % 5,
                        "start": i * 6.0,
                        "end": i * 6.0 + 5.5,
                        "text": text,
                        "words": words,
                        "language": "en",
                        "kind": "testimony",
                        "tags": [],
                        "created_at": now,
                    }
                )
            session.execute(insert(Segment), rows)
    with sessions() as session:
        rebuild(open_backend(settings), session)
    sessions.kw["bind"].dispose()
    return slugs


def existing_slugs(home: Path) -> list[str]:
    """An archive built by an earlier run: its meetings in the order build_archive made them (the big one last)."""
    from sqlalchemy import select

    from archive.db.models import Meeting
    from archive.home import open_home

    sessions = open_home(Settings(home=home))
    with sessions() as session:
        slugs = list(session.scalars(select(Meeting.slug).order_by(Meeting.id)))
    sessions.kw["bind"].dispose()
    return slugs


# One wrk per kind of request (its own latency figures), together 50 connections: each is a client that sends
# its next request as soon as the answer arrives (closed loop, no think time). wrk is C: the load costs little
# of the two cores the server needs. The paths are drawn in Python (the corpus's words) and handed over in Lua.
WRK_SCRIPT = """
local paths = {%s}
local n = 0
math.randomseed(%d)
request = function()
  n = n + 1
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %%d, "p50": %%f, "p95": %%f, "p99": %%f, "errors": %%d, "status": %%d}\\n',
    summary.requests, latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""
SPLIT = {"search page": 20, "meeting page": 20, "api search": 10}  # connections per kind: 40/40/20


def paths_for(kind: str, slugs: list[str], words: list[str], rng: random.Random, count: int = 3000) -> list[str]:
    found = []
    for _ in range(count):
        if kind == "meeting page":
            found.append(f"/meetings/{slugs[-1] if rng.random() < 0.1 else rng.choice(slugs)}")
        else:
            query = urllib.parse.urlencode({"q": " ".join(rng.sample(words, rng.choice((1, 2))))})
            found.append(f"/search?{query}" if kind == "search page" else f"/api/search?{query}")
    return found


def drive(port: int, seconds: float, slugs: list[str], workdir: Path) -> dict[str, dict[str, float]]:
    """Every kind's wrk at once; returns each one's figures."""
    words = Corpus(1).words[20:400]
    rng = random.Random(1)
    runs = {}
    for n, (kind, connections) in enumerate(SPLIT.items()):
        script = workdir / f"wrk-{n}.lua"
        paths = ", ".join(json.dumps(p) for p in paths_for(kind, slugs, words, rng))
        script.write_text(WRK_SCRIPT % (paths, n + 1))
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s", "-s", str(script)]
        runs[kind] = subprocess.Popen(command + [f"http://127.0.0.1:{port}"], stdout=subprocess.PIPE, text=True)
    results = {}
    for kind, run in runs.items():
        output, _ = run.communicate()
        results[kind] = json.loads(output.strip().splitlines()[-1])
    return results


def wait_until_serving(port: int, timeout: float = 60) -> None:
    """Until the home page answers, several times in a row: gunicorn listens before its processes have loaded
    the application, and a cold run should measure a server that is up, not one still starting."""
    deadline = time.monotonic() + timeout
    answered = 0
    while answered < 8:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
                answered = answered + 1 if reply.status == 200 else 0
        except OSError:
            answered = 0
            if time.monotonic() > deadline:
                raise SystemExit(f"the server on port {port} did not start within {timeout:g} s") from None
            time.sleep(0.2)


def serve_and_drive(
    home: Path, slugs: list[str], args: argparse.Namespace, cache_mb: int
) -> list[dict[str, dict[str, float]]]:
    """A fresh server, driven twice: from cold (only the meeting pages `testimony serve` keeps at start), then
    warm."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, TESTIMONY_HOME=str(home), TESTIMONY_DATABASE_URL="", TESTIMONY_PAGE_CACHE_MB=str(cache_mb))
    command = [sys.executable, "-m", "archive.cli", "serve", "--port", str(port), "--threads", str(args.threads)]
    if args.processes:
        command += ["--processes", str(args.processes)]
    server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        wait_until_serving(port)
        return [drive(port, args.seconds, slugs, home) for _ in ("cold", "warm")]
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=200)
    parser.add_argument("--segments", type=int, default=500, help="segments per meeting")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--processes", type=int, default=0, help="server processes (0: one per core)")
    parser.add_argument("--threads", type=int, default=4, help="threads per server process")
    parser.add_argument("--cache-mb", type=int, default=512, help="kept pages, MiB (the run beside it: 0)")
    parser.add_argument("--archive", type=Path, help="build the archive here and keep it; reused when it exists")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("benchmarks/site.py drives the server with wrk: apt-get install wrk")

    with tempfile.TemporaryDirectory(prefix="testimony-site-") as tmp:
        home = args.archive or Path(tmp) / "home"
        began = time.perf_counter()
        if (home / "archive.db").exists():
            slugs = existing_slugs(home)
            print(f"archive: {home} reused ({len(slugs)} meetings)")
        else:
            slugs = build_archive(home, args.meetings, args.segments)
            print(
                f"archive: {args.meetings} meetings × {args.segments} segments + one of {BIG_MEETING_SEGMENTS}, "
                f"built and indexed in {time.perf_counter() - began:.0f} s"
            )
        processes = args.processes or len(os.sched_getaffinity(0))
        print(
            f"testimony serve: {processes} processes × {args.threads} threads; wrk: {sum(SPLIT.values())} connections "
            f"({', '.join(f'{c} {k}' for k, c in SPLIT.items())}), closed loop, {args.seconds:g} s each run"
        )
        runs = {}
        for label, cache_mb in ((f"cache {args.cache_mb} MiB", args.cache_mb), ("no page cache", 0)):
            cold, warm = serve_and_drive(home, slugs, args, cache_mb)
            runs[f"{label}, cold"], runs[f"{label}, warm"] = cold, warm
    print(f"{'run':<24}{'request':<14}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for label, results in runs.items():
        total = sum(r["requests"] for r in results.values()) / args.seconds
        for kind, r in results.items():
            print(
                f"{label:<24}{kind:<14}{r['requests'] / args.seconds:>8.1f}{r['p50']:>9.0f}{r['p95']:>9.0f}"
                f"{r['p99']:>9.0f}{r['errors'] + r['status']:>8}"
            )
        print(f"{label:<24}{'all':<14}{total:>8.1f}")
    for phase in ("cold", "warm"):
        cached, baseline = runs[f"cache {args.cache_mb} MiB, {phase}"], runs[f"no page cache, {phase}"]
        ratios = (f"{kind} {cached[kind]['p95'] / max(baseline[kind]['p95'], 1e-6):.2f}×" for kind in SPLIT)
        print(f"p95 with the page cache / without, {phase}: " + ", ".join(ratios))


if __name__ == "__main__":
    main()
