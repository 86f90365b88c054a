"""Mail delivery speed: --messages queued letters delivered to a loopback aiosmtpd server by 1 and 2 workers
(separate processes, each with its own database engine, claiming rows as `testimony worker` does), on SQLite
and PostgreSQL. Prints messages per second, the median of --runs runs, and checks every message arrived once.

    .venv/bin/python benchmarks/mail.py                          # 300 messages, 3 runs, sqlite and postgres
    .venv/bin/python benchmarks/mail.py --messages 1000 --databases sqlite
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from archive.config import Settings  # noqa: E402
from archive.db.session import connect  # noqa: E402
from archive.home import init_home  # noqa: E402
from archive.mail.delivery import deliver_due  # noqa: E402
from archive.mail.outbox import enqueue, idempotency_key  # noqa: E402
from tests.factories.mail_server import MailServer  # noqa: E402

POSTGRES_URL = os.environ.get("TESTIMONY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SENDER = "letters@testimony.example"
BODY = "Dear Representative,\n\n" + "I watched the testimony and I ask you to act on it. " * 20 + "\n\nA supporter\n"


def queue(settings: Settings, count: int, run: int) -> None:
    sessions = init_home(settings)
    with sessions() as session, session.begin():
        for number in range(count):
            to = f"rep{number}@legislature.example"
            enqueue(
                session,
                key=idempotency_key("bench", run, number),
                sender=SENDER,
                to_email=to,
                to_name=f"Rep. {number}",
                from_name="A Supporter",
                reply_to="supporter@example.org",
                subject="Please act on the testimony",
                body=BODY,
            )
    sessions.kw["bind"].dispose()


def drain(settings: Settings, start: multiprocessing.synchronize.Event, sent: multiprocessing.Queue) -> None:  # type: ignore[name-defined]
    """One worker: its own engine, batches until nothing is due (as `testimony worker --once`)."""
    sessions = connect(settings.sqlalchemy_url)
    start.wait()
    total = 0
    while True:
        report = deliver_due(settings, sessions)
        total += report.sent
        if report.total == 0:
            break
    sessions.kw["bind"].dispose()
    sent.put(total)


def one_run(settings: Settings, server: MailServer, messages: int, workers: int, run: int) -> float:
    queue(settings, messages, run)
    server.received.clear()
    context = multiprocessing.get_context("fork")
    start, sent = context.Event(), context.Queue()
    processes = [context.Process(target=drain, args=(settings, start, sent)) for _ in range(workers)]
    for process in processes:
        process.start()
    time.sleep(0.5)  # let them connect to the database before the clock starts
    began = time.perf_counter()
    start.set()
    counts = [sent.get(timeout=600) for _ in processes]
    elapsed = time.perf_counter() - began
    for process in processes:
        process.join()
    ids = server.message_ids()
    assert sum(counts) == messages and len(ids) == len(set(ids)) == messages, (counts, len(ids))
    return messages / elapsed


def database(kind: str, home: Path) -> tuple[str, object]:
    if kind == "sqlite":
        return "", None
    url = make_url(POSTGRES_URL)
    name = f"testimony_bench_{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False), (admin, name)


def drop(handle: object) -> None:
    if handle is None:
        return
    admin, name = handle  # type: ignore[misc]
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args()

    print(f"{args.messages} messages of {len(BODY)} characters to aiosmtpd on loopback, median of {args.runs} runs")
    print(f"{'database':<10}{'workers':>8}{'messages/s':>12}{'runs':>28}")
    with MailServer() as server:
        for kind in args.databases.split(","):
            for workers in (1, 2):
                with tempfile.TemporaryDirectory(prefix="testimony-mail-") as tmp:
                    url, handle = database(kind, Path(tmp))
                    try:
                        settings = dataclasses.replace(
                            Settings(home=Path(tmp)),
                            database_url=url,
                            mail_from=SENDER,
                            smtp_host=server.host,
                            smtp_port=server.port,
                        )
                        rates = [one_run(settings, server, args.messages, workers, run) for run in range(args.runs)]
                    finally:
                        drop(handle)
                runs = " ".join(f"{rate:.0f}" for rate in rates)
                print(f"{kind:<10}{workers:>8}{statistics.median(rates):>12.0f}{runs:>28}")


if __name__ == "__main__":
    main()
