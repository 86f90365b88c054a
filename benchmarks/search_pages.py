"""Search pages at 50 clients: uncached (every search rendered), cached, and cache-busted (issue 17).

    .venv/bin/python benchmarks/search_pages.py                       # 200 meetings × 500 segments, 20 s a run
    .venv/bin/python benchmarks/search_pages.py --archive /tmp/site --seconds 10

The archive and the load are benchmarks/site.py's: `testimony serve` (one process per core × its default threads, or
--threads) driven on loopback by wrk, 50 keep-alive connections in a closed loop, `/search?q=<one or two words>`
only; with --behind-nginx, through the shipped deploy/nginx.conf (the public shape is that with --threads 1). Three
runs, each on a fresh server:

- uncached: TESTIMONY_PAGE_CACHE_MB=0, so every search is parsed, run and rendered (target p95 ≤ 250 ms);
- cached: the page cache on, 50 searches asked again and again (warm after the first of each);
- busted: the same 50 searches, each with a random extra argument (`&x=<n>`), which used to miss the cache every
  time and now is the same kept page.

Needs wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from search import Corpus  # noqa: E402  (benchmarks/search.py)

from tests.factories.server import nginx_in_front  # noqa: E402  (deploy/nginx.conf, run as this user)

_spec = importlib.util.spec_from_file_location("site_benchmark", ROOT / "benchmarks" / "site.py")
assert _spec and _spec.loader
site_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(site_benchmark)

CONNECTIONS = 50


def search_paths(kind: str, rng: random.Random, count: int = 3000) -> list[str]:
    words = Corpus(1).words[20:400]
    if kind == "uncached":
        queries = [" ".join(rng.sample(words, rng.choice((1, 2)))) for _ in range(count)]
        return ["/search?" + urllib.parse.urlencode({"q": q}) for q in queries]
    few = [" ".join(rng.sample(words, rng.choice((1, 2)))) for _ in range(50)]
    paths = []
    for n in range(count):
        query = {"q": few[n % len(few)]}
        if kind == "busted":
            query["x"] = str(rng.randrange(10**9))
        paths.append("/search?" + urllib.parse.urlencode(query))
    return paths


def drive(port: int, seconds: float, paths: list[str], workdir: Path) -> dict[str, float]:
    script = workdir / "wrk-search.lua"
    script.write_text(site_benchmark.WRK_SCRIPT % (", ".join(json.dumps(p) for p in paths), 1))
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "30s", "-s", str(script)]
    done = subprocess.run(command + [f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(home: Path, kind: str, args: argparse.Namespace) -> dict[str, float]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cache_mb = "0" if kind == "uncached" else "512"
    env = dict(os.environ, TESTIMONY_HOME=str(home), TESTIMONY_DATABASE_URL="", TESTIMONY_PAGE_CACHE_MB=cache_mb)
    command = [sys.executable, "-m", "archive.cli.main", "serve", "--port", str(port)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    if args.processes:
        command += ["--processes", str(args.processes)]
    server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        site_benchmark.wait_until_serving(port)
        with contextlib.ExitStack() as stack:
            if args.behind_nginx:  # deploy/nginx.conf in front, as the archive runs publicly
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="testimony-nginx-")))
                port = stack.enter_context(nginx_in_front(port, folder)).port
            paths = search_paths(kind, random.Random(7))
            if kind != "uncached":
                drive(port, min(5.0, args.seconds), paths, home)  # warm: each of the 50 searches kept once
            return drive(port, args.seconds, paths, home)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=200)
    parser.add_argument("--segments", type=int, default=500, help="segments per meeting")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--processes", type=int, default=0, help="server processes (0: one per core)")
    parser.add_argument("--threads", type=int, default=0, help="threads per process (0: the server's default)")
    parser.add_argument("--behind-nginx", action="store_true", help="drive deploy/nginx.conf in front of it")
    parser.add_argument("--archive", type=Path, help="build the archive here and keep it; reused when it exists")
    parser.add_argument("--runs", nargs="*", default=["uncached", "cached", "busted"])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("benchmarks/search_pages.py drives the server with wrk: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="testimony-search-pages-") as tmp:
        home = args.archive or Path(tmp) / "home"
        began = time.perf_counter()
        if (home / "archive.db").exists():
            print(f"archive: {home} reused")
        else:
            site_benchmark.build_archive(home, args.meetings, args.segments)
            took = time.perf_counter() - began
            print(f"archive: {args.meetings} meetings × {args.segments} segments, built in {took:.0f} s")
        print(f"{'run':<10}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
        for kind in args.runs:
            r = run(home, kind, args)
            print(
                f"{kind:<10}{r['requests'] / args.seconds:>8.1f}{r['p50']:>9.0f}{r['p95']:>9.0f}{r['p99']:>9.0f}"
                f"{r['errors'] + r['status']:>8}",
                flush=True,
            )


if __name__ == "__main__":
    main()
