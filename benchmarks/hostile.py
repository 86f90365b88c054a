"""Hostile requests against a running server, on loopback, each bounded: what each costs the server.

    .venv/bin/python benchmarks/hostile.py --url http://127.0.0.1:8000 --pid SERVER_PID

- a long address (--url-mib, default 20 MiB): the answer's status and the seconds it took, and the CPU-seconds the
  server's processes spent meanwhile (with --pid: the gunicorn master, whose workers are summed);
- a big body (--body-mib, default 50 MiB) to /login without a session: the status, and how many bytes the client
  could send before the answer came or the connection closed (an upper bound on what the server read);
- slow headers: --slow connections each sending one header line every --every seconds, while a probe asks for
  /search?q=… once a second: the probe's latency with and without them.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import threading
import time
import urllib.parse
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """user+system CPU-seconds of a process and its children (gunicorn's workers), from /proc."""
    total = 0.0
    tick = 100.0  # os.sysconf("SC_CLK_TCK") on Linux
    pids = [pid] + [int(p) for p in (Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def status_of(answer: bytes) -> str:
    line = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    return line.split(" ", 2)[1] if line.startswith("HTTP/") else f"no answer ({len(answer)} bytes)"


def read_answer(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data


def long_address(host: str, port: int, mib: float, timeout: float = 120) -> tuple[str, float]:
    """A GET whose path is `mib` MiB long; (status, seconds until the answer or the close)."""
    began = time.monotonic()
    with socket.create_connection((host, port)) as sock:
        sock.settimeout(timeout)
        path = "/search?q=" + "a" * int(mib * 1024 * 1024)
        with contextlib.suppress(OSError):  # refused part-way: the answer (if any) is read below
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        answer = read_answer(sock, timeout)
    return status_of(answer), time.monotonic() - began


def big_body(host: str, port: int, path: str, mib: float, timeout: float = 120) -> tuple[str, int]:
    """A POST of `mib` MiB; (status, bytes sent before the answer came or the connection closed)."""
    size = int(mib * 1024 * 1024)
    sent = 0
    with socket.create_connection((host, port)) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {size}\r\n\r\n"
        )
        sock.sendall(head.encode())
        sock.setblocking(False)
        chunk = b"a" * 65536
        answer = b""
        deadline = time.monotonic() + timeout
        while sent < size and time.monotonic() < deadline:
            try:
                answer += sock.recv(65536)
                if answer:
                    break
            except BlockingIOError:
                pass
            except OSError:
                break
            try:
                sent += sock.send(chunk[: size - sent])
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                break
        sock.setblocking(True)
        if b"\r\n\r\n" not in answer:
            answer += read_answer(sock, 10)
    return status_of(answer), sent


def slow_headers(host: str, port: int, connections: int, every: float, stop: threading.Event) -> None:
    """Connections that send a request's headers one line every `every` seconds, never finishing."""
    socks = []
    for _ in range(connections):
        try:
            sock = socket.create_connection((host, port), timeout=5)
            sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n".encode())
            socks.append(sock)
        except OSError:
            pass
    n = 0
    while not stop.wait(every):
        n += 1
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.sendall(f"X-Slow-{n}: {'x' * 10}\r\n".encode())
    for sock in socks:
        sock.close()


def probe_latencies(url: str, seconds: float, timeout: float = 30) -> list[float]:
    """One GET a second for `seconds` (a new connection each time); each one's seconds (timeout when unanswered)."""
    parts = urllib.parse.urlsplit(url)
    found = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        began = time.monotonic()
        try:
            with socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout) as sock:
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {parts.hostname}\r\nConnection: close\r\n\r\n".encode())
                read_answer(sock, timeout)
        except OSError:
            pass
        found.append(time.monotonic() - began)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - began)))
    return found


def describe(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"median {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--pid", type=int, help="the server's (gunicorn master's) process id, for CPU-seconds")
    parser.add_argument("--url-mib", type=float, default=20)
    parser.add_argument("--body-mib", type=float, default=50)
    parser.add_argument("--slow", type=int, default=10, help="slow-header connections")
    parser.add_argument("--every", type=float, default=4, help="seconds between their header lines")
    parser.add_argument("--seconds", type=float, default=20, help="probing time, with and without them")
    parser.add_argument("--skip", nargs="*", default=[], choices=["address", "body", "slow"])
    args = parser.parse_args()
    parts = urllib.parse.urlsplit(args.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80

    if "address" not in args.skip:
        before = cpu_seconds(args.pid) if args.pid else 0.0
        status, took = long_address(host, port, args.url_mib)
        spent = f", server CPU {cpu_seconds(args.pid) - before:.2f} s" if args.pid else ""
        print(f"{args.url_mib:g} MiB address: {status} after {took:.2f} s{spent}")
    if "body" not in args.skip:
        status, sent = big_body(host, port, "/login", args.body_mib)
        print(f"{args.body_mib:g} MiB body to /login: {status}, {sent / 1024 / 1024:.2f} MiB sent before the answer")
    if "slow" not in args.skip:
        probe = f"{args.url.rstrip('/')}/search?q=meeting"
        print(f"probe alone: {describe(probe_latencies(probe, args.seconds))}")
        stop = threading.Event()
        attack = threading.Thread(target=slow_headers, args=(host, port, args.slow, args.every, stop))
        attack.start()
        time.sleep(1)
        try:
            during = probe_latencies(probe, args.seconds)
        finally:
            stop.set()
            attack.join()
        print(f"probe with {args.slow} slow-header connections (a line every {args.every:g} s): {describe(during)}")


if __name__ == "__main__":
    main()
