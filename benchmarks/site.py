"""The site under load: `testimony serve` (waitress) on an archive of --meetings × --segments, driven from a
separate process on loopback by --clients concurrent keep-alive clients for --seconds, on a mix of search pages,
meeting pages (one of them with 2,000 segments) and API searches. Prints throughput, p50/p95/p99 and errors
per kind of request.

    .venv/bin/python benchmarks/site.py                      # 200 meetings × 500 segments, 50 clients, 30 s
    .venv/bin/python benchmarks/site.py --meetings 20 --seconds 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from search import Corpus  # noqa: E402  (benchmarks/search.py: the same synthetic speech)

from archive.config import Settings  # noqa: E402

MIX = [("search page", 0.4), ("meeting page", 0.4), ("api search", 0.2)]
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


def client(port: int, seconds: float, slugs: list[str], words: list[str], seed: int, out: list) -> None:  # type: ignore[type-arg]
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        kind = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
        if kind == "meeting page":
            path = f"/meetings/{slugs[-1] if rng.random() < 0.1 else rng.choice(slugs)}"
        else:
            query = urllib.parse.urlencode({"q": " ".join(rng.sample(words, rng.choice((1, 2))))})
            path = f"/search?{query}" if kind == "search page" else f"/api/search?{query}"
        began = time.perf_counter()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        out.append((kind, (time.perf_counter() - began) * 1000, ok))


def drive(port: int, clients: int, seconds: float, slugs: list[str]) -> None:
    """The load generator (run in its own process): prints one JSON line of results."""
    words = Corpus(1).words[20:400]
    results: list = []  # type: ignore[type-arg]
    threads = [threading.Thread(target=client, args=(port, seconds, slugs, words, n, results)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(results))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=200)
    parser.add_argument("--segments", type=int, default=500, help="segments per meeting")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--drive", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        port, slugs = json.loads(args.drive)
        drive(port, args.clients, args.seconds, slugs)
        return

    with tempfile.TemporaryDirectory(prefix="testimony-site-") as tmp:
        home = Path(tmp) / "home"
        began = time.perf_counter()
        slugs = build_archive(home, args.meetings, args.segments)
        print(
            f"archive: {args.meetings} meetings × {args.segments} segments + one of {BIG_MEETING_SEGMENTS}, "
            f"built and indexed in {time.perf_counter() - began:.0f} s"
        )
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = dict(os.environ, TESTIMONY_HOME=str(home), TESTIMONY_DATABASE_URL="")
        server = subprocess.Popen(
            [sys.executable, "-m", "archive.cli", "serve", "--port", str(port), "--threads", str(args.threads)],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            command = [
                sys.executable,
                __file__,
                "--drive",
                json.dumps([port, slugs]),
                "--clients",
                str(args.clients),
                "--seconds",
                str(args.seconds),
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
        finally:
            server.terminate()
            server.wait(timeout=10)
    results = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"{args.clients} clients for {args.seconds:g} s, waitress with {args.threads} threads: "
        f"{len(results) / args.seconds:.1f} requests/s, {sum(1 for r in results if not r[2])} errors"
    )
    print(f"{'request':<14}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for kind, _ in MIX:
        times = [r[1] for r in results if r[0] == kind]
        if times:
            errors = sum(1 for r in results if r[0] == kind and not r[2])
            print(
                f"{kind:<14}{len(times):>7}{statistics.median(times):>9.0f}{percentile(times, 0.95):>9.0f}"
                f"{percentile(times, 0.99):>9.0f}{errors:>8}"
            )


if __name__ == "__main__":
    main()
