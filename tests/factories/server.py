"""Real servers on loopback for the tests that are about serving: `testimony serve` (gunicorn) and Debian's nginx
in front of it with the shipped configuration (deploy/nginx.conf), each on a free port, stopped after the test."""

from __future__ import annotations

import getpass
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.config import Settings

ROOT = Path(__file__).resolve().parents[2]
NGINX = "/usr/sbin/nginx"


@contextmanager
def served_in_thread(app: Any, threads: int = 4) -> Iterator[str]:
    """A WSGI app served by waitress on a loopback port, in a thread of this process; yields its address.

    The server is stopped from its own thread: `server.close()` from the test's thread closed sockets while the
    server's loop was polling or writing them, and the loop's "Bad file descriptor" failed the test at teardown."""
    import waitress
    from waitress import wasyncore

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    stopping = threading.Event()

    def run() -> None:
        while not stopping.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)
        server.task_dispatcher.shutdown()  # requests still running finish (up to 5 s), then the sockets close
        wasyncore.close_all(map=server._map)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stopping.set()
        thread.join(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            if server.poll() is not None:
                log = server.stderr.read().decode() if server.stderr else ""
                raise AssertionError(f"the server stopped: {log}") from None
            assert time.monotonic() < deadline, f"no answer from {url}"
            time.sleep(0.05)  # a refused connection costs nothing: look often


@dataclass
class Served:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def serving(
    settings: Settings, tmp_path: Path, *, processes: int = 2, threads: int = 4, env: dict[str, str] | None = None
) -> Iterator[Served]:
    """`testimony serve` on a free loopback port for the test's home, its kept pages in tmp_path."""
    port = free_port()
    temporary = tmp_path / "server-tmp"
    temporary.mkdir(exist_ok=True)
    environ = dict(
        os.environ,
        TESTIMONY_HOME=str(settings.home),
        TESTIMONY_DATABASE_URL=settings.database_url,
        TESTIMONY_WARM_SECONDS="0",
        TMPDIR=str(temporary),
        **(env or {}),
    )
    command = [sys.executable, "-m", "archive.cli.main", "serve", "--port", str(port)]
    command += ["--processes", str(processes), "--threads", str(threads)]
    server = subprocess.Popen(command, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(f"http://127.0.0.1:{port}/", server)
        yield Served(port, server)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr:
            server.stderr.close()


MAIN_CONFIG = """
{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/testimony.conf;
}}
"""


def nginx_config(backend_port: int, port: int, folder: Path) -> Path:
    """The shipped site (deploy/nginx.conf) in a main configuration that runs as this user in `folder`; in the
    site, only its addresses change (the name, the ports): its limits and timeouts are the ones under test."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = site.replace("server 127.0.0.1:5000;", f"server 127.0.0.1:{backend_port};")
    site = site.replace("listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = re.sub(r"^\s*listen \[::\]:80.*\n", "", site, flags=re.M)
    site = site.replace("server_name archive.example.org;", "server_name 127.0.0.1;")
    (folder / "testimony.conf").write_text(site)
    path = folder / "nginx.conf"
    # Started as root (CI), nginx's worker would run as nobody, who cannot enter the test's folder (mode 0700) to
    # spool a body: it runs as the user running the tests, root or not.
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    path.write_text(MAIN_CONFIG.format(folder=folder, user=user))
    return path


@contextmanager
def nginx_in_front(backend_port: int, folder: Path) -> Iterator[Served]:
    """Debian's nginx with the shipped configuration, proxying to backend_port, as this user (no root)."""
    folder.mkdir(exist_ok=True)
    port = free_port()
    config = nginx_config(backend_port, port, folder)
    command = [NGINX, "-p", f"{folder}/", "-c", str(config), "-e", str(folder / "error.log"), "-g", "daemon off;"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(f"http://127.0.0.1:{port}/", server, timeout=20)
        yield Served(port, server)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr:
            server.stderr.close()
