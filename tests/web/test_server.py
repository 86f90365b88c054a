"""The attacks of issue 17 against the real `testimony serve` (gunicorn), on loopback, each bounded: an overlong
request line, a big body to the login form, slow headers; and the same behind the shipped nginx configuration."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from archive.accounts.users import create_user
from archive.config import Settings
from archive.home import init_home
from tests.factories.accounts import PASSWORD
from tests.factories.media import encode, speech
from tests.factories.server import Served, nginx_in_front, serving

MiB = 1024 * 1024
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The module's archive, with a curator to upload."""
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    sessions = init_home(settings)
    with sessions() as session, session.begin():
        create_user(session, "curator@example.org", PASSWORD, "curator")
    sessions.kw["bind"].dispose()
    return settings


@pytest.fixture(scope="module")
def served(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`testimony serve` as it starts by default on a 2-core machine: 2 processes × 4 threads."""
    with serving(settings, tmp_path_factory.mktemp("serve"), processes=2, threads=4) as server:
        yield server


@pytest.fixture(scope="module")
def deployed(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The archive as deploy/ runs it publicly: nginx (deploy/nginx.conf) in front of `testimony serve --threads 1`
    (deploy/testimony-web.service), 2 processes of one thread each."""
    with (
        serving(settings, tmp_path_factory.mktemp("deployed"), processes=2, threads=1) as server,
        nginx_in_front(server.port, tmp_path_factory.mktemp("nginx")) as proxy,
    ):
        yield proxy


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


def test_behind_nginx_slow_headers_no_longer_stall_the_site(served: Served, deployed: Served) -> None:
    direct = probe_during_slow_headers(served.port, probes=1)
    proxied = probe_during_slow_headers(deployed.port)
    # Straight to gunicorn the probe usually waits out the slow clients (10 s: unanswered; docs/operations/limits.md):
    # the figure is reported, not asserted, because how the two processes share the connections varies from run to
    # run. What the deployment promises is asserted: behind nginx, the site answers.
    print(f"probe during slow headers: direct {direct}, behind nginx {proxied}")
    assert max(proxied) < 2  # nginx holds the slow clients; gunicorn sees only whole requests


def test_nginx_refuses_bodies_over_the_limits_itself(deployed: Served) -> None:
    response = requests.post(f"{deployed.url}/login", data=b"a" * (50 * MiB), timeout=30,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert response.status_code == 413
    assert "413 Request Entity Too Large" in response.text  # nginx's own page: refused at the proxy
    assert requests.get(f"{deployed.url}/search?q=meeting", timeout=10).status_code == 200
    with pytest.raises(requests.ConnectionError):  # another Host: dropped, never passed on
        requests.get(f"{deployed.url}/search?q=meeting", headers={"Host": "evil.example"}, timeout=10)


@pytest.mark.parametrize("path", ["/admin/upload", "/api/meetings"])
def test_behind_nginx_a_strangers_upload_is_refused_unread(deployed: Served, path: str) -> None:
    """A body declared at 2 GiB, none of it sent: nginx asks the archive, and answers before reading any."""
    with socket.create_connection(("127.0.0.1", deployed.port)) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            f"Content-Length: {2048 * MiB}\r\n\r\n".encode()
        )
        assert first_line(sock, timeout=5) == b"HTTP/1.1 403 Forbidden"
    assert requests.get(f"{deployed.url}/admin/upload", timeout=10).url.endswith("/login?next=/admin/upload")


def signed_in_curator(url: str) -> tuple[requests.Session, dict[str, str]]:
    """A requests session signed in as the module's curator through nginx, and the upload form's hidden fields."""
    browser = requests.Session()
    token = CSRF.search(browser.get(f"{url}/login", timeout=10).text)
    assert token
    data = {"email": "curator@example.org", "password": PASSWORD, "code": "", "next": "", "csrf_token": token[1]}
    assert browser.post(f"{url}/login", data=data, timeout=10, allow_redirects=False).status_code == 303
    form = browser.get(f"{url}/admin/upload", timeout=10).text
    hidden = dict(re.findall(r'<input type="hidden" name="(csrf_token|key)" value="([^"]+)"', form))
    assert set(hidden) == {"csrf_token", "key"}
    return browser, hidden


def slow_upload(url: str, browser: requests.Session, token: str, stop: threading.Event) -> None:
    """A curator's upload whose body arrives a few bytes every half second until `stop`, then ends."""

    def body() -> Iterator[bytes]:
        yield b'--x\r\nContent-Disposition: form-data; name="recording"; filename="slow.flac"\r\n\r\n'
        while not stop.wait(0.5):
            yield b"ffff"
        yield f'\r\n--x\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n--x--\r\n'.encode()

    with contextlib.suppress(requests.RequestException):
        browser.post(f"{url}/admin/upload", data=body(), timeout=30,
                     headers={"Content-Type": "multipart/form-data; boundary=x"})  # fmt: skip


def test_behind_nginx_slow_uploads_hold_no_server_process(deployed: Served, tmp_path: Path) -> None:
    """Two curators' uploads arriving slowly, against a server of two one-thread processes: nginx takes them, and
    the site answers meanwhile; then a whole recording sent through nginx is stored and queued."""
    browser, hidden = signed_in_curator(deployed.url)
    token = hidden["csrf_token"]
    stop = threading.Event()
    uploads = [threading.Thread(target=slow_upload, args=(deployed.url, browser, token, stop)) for _ in range(2)]
    for upload in uploads:
        upload.start()
    try:
        time.sleep(1.0)
        times = []
        for _ in range(4):
            began = time.monotonic()
            assert requests.get(f"{deployed.url}/search?q=meeting", timeout=10).status_code == 200
            times.append(time.monotonic() - began)
    finally:
        stop.set()
        for upload in uploads:
            upload.join()
    assert max(times) < 2, times

    flac = encode(speech("jfk.flac"), tmp_path / "jfk.flac", "flac", "flac")
    fields = {"body": "Council", "title": "Sent through nginx", "date": "2024-02-07", "engine": "whisper",
              "model": "tiny.en", **hidden}  # fmt: skip
    with flac.open("rb") as recording:
        response = browser.post(f"{deployed.url}/admin/upload", data=fields, files={"recording": recording},
                                timeout=30, allow_redirects=False)  # fmt: skip
    assert response.status_code == 303, response.text
    assert "/admin/jobs/" in response.headers["Location"]
