"""The attacks of issue 17 against the real `testimony serve` (gunicorn), on loopback, each bounded: an overlong
request line, a big body to the login form, slow headers; and the same behind the shipped nginx configuration."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from archive.config import Settings
from archive.home import init_home
from tests.factories.server import Served, nginx_in_front, serving

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the module: 2 processes × 4 threads, the default of a 2-core machine."""
    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home)
    init_home(settings).kw["bind"].dispose()
    with serving(settings, tmp_path_factory.mktemp("serve"), processes=2, threads=4) as server:
        yield server


def first_line(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data:
            piece = sock.recv(4096)
            if not piece:
                break
            data += piece
    except OSError:
        pass
    return data.split(b"\r\n", 1)[0]


def test_a_one_mebibyte_request_line_is_refused_within_two_seconds(served: Served) -> None:
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        with contextlib.suppress(OSError):  # refused part-way
            sock.sendall(b"GET /search?q=" + b"a" * MiB + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        line = first_line(sock, 5)
    assert time.monotonic() - began < 2
    assert line.startswith(b"HTTP/1.1 400"), line


def test_a_fifty_mebibyte_body_to_the_login_form_gets_a_413(served: Served) -> None:
    response = requests.post(f"{served.url}/login", data=b"a" * (50 * MiB), timeout=30,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert response.status_code == 413
    assert "larger than this site accepts (1 MiB)" in response.text
    chunked = requests.post(f"{served.url}/login", data=iter([b"a" * MiB] * 50), timeout=30,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert chunked.status_code == 413


def slow_headers(port: int, connections: int, every: float, stop: threading.Event) -> None:
    """The attack as it was found: connections that send one header line every few seconds, never finishing."""
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(connections)]
    for sock in socks:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    n = 0
    while not stop.wait(every):
        n += 1
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.sendall(f"X-Slow-{n}: x\r\n".encode())
    for sock in socks:
        sock.close()


def probe_during_slow_headers(port: int, probes: int = 4) -> list[float]:
    """Seconds each of a few searches took while slow-header connections were open (10 s when unanswered). Ten
    stalled the default server (issue 17) when each process took at least its four; 24 leave no process a free
    thread however the processes share them."""
    stop = threading.Event()
    attack = threading.Thread(target=slow_headers, args=(port, 24, 3.0, stop))
    attack.start()
    times = []
    try:
        time.sleep(1.0)  # the connections are open and have sent their first line
        for _ in range(probes):
            began = time.monotonic()
            with contextlib.suppress(requests.RequestException):
                requests.get(f"http://127.0.0.1:{port}/search?q=meeting", timeout=10)
            times.append(time.monotonic() - began)
            time.sleep(0.5)
    finally:
        stop.set()
        attack.join()
    return times


def test_behind_nginx_slow_headers_no_longer_stall_the_site(served: Served, tmp_path: Path) -> None:
    direct = probe_during_slow_headers(served.port, probes=1)
    with nginx_in_front(served.port, tmp_path / "nginx") as proxy:
        proxied = probe_during_slow_headers(proxy.port)
    # Straight to gunicorn the probe usually waits out the slow clients (10 s: unanswered; docs/operations/limits.md):
    # the figure is reported, not asserted, because how the two processes share the connections varies from run to
    # run. What the deployment promises is asserted: behind nginx, the site answers.
    print(f"probe during slow headers: direct {direct}, behind nginx {proxied}")
    assert max(proxied) < 2  # nginx holds the slow clients; gunicorn sees only whole requests


def test_nginx_refuses_bodies_over_the_limits_itself(served: Served, tmp_path: Path) -> None:
    with nginx_in_front(served.port, tmp_path / "nginx") as proxy:
        response = requests.post(f"{proxy.url}/login", data=b"a" * (50 * MiB), timeout=30,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert response.status_code == 413
        assert "413 Request Entity Too Large" in response.text  # nginx's own page: refused at the proxy
        upload = requests.post(f"{proxy.url}/admin/upload", data=b"a" * (2 * MiB), timeout=30,
                               headers={"Content-Type": "multipart/form-data; boundary=x"})  # fmt: skip
        assert upload.status_code == 413  # passed on (uploads may be large), refused by the app: no curator
        assert "larger than this site accepts (1 MiB)" in upload.text
        assert requests.get(f"{proxy.url}/search?q=meeting", timeout=10).status_code == 200
        with pytest.raises(requests.ConnectionError):  # another Host: dropped, never passed on
            requests.get(f"{proxy.url}/search?q=meeting", headers={"Host": "evil.example"}, timeout=10)
