"""`testimony worker` and `testimony outbox`: in process, and as real processes killed mid-delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from archive.cli.main import main
from archive.config import Settings
from archive.db.models import OutboxMessage
from tests.factories.mail import ARCHIVE_ADDRESS, SUPPORTER, queue_letters
from tests.factories.mail_server import MailServer, Received

pytestmark = pytest.mark.both_databases  # real worker processes claiming jobs: each dialect's leases

TESTIMONY = str(Path(sys.executable).with_name("testimony"))


def mail_env(settings: Settings, server: MailServer, **extra: str) -> dict[str, str]:
    return {
        "TESTIMONY_HOME": str(settings.home),
        "TESTIMONY_DATABASE_URL": settings.database_url,
        "TESTIMONY_MAIL_FROM": ARCHIVE_ADDRESS,
        "TESTIMONY_SMTP_HOST": server.host,
        "TESTIMONY_SMTP_PORT": str(server.port),
        **extra,
    }


def statuses(sessions) -> dict[int, tuple[str, int]]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return {row.id: (row.status, row.attempts) for row in session.scalars(select(OutboxMessage))}


def test_worker_once_delivers_what_is_due_and_logs_no_supporter(  # type: ignore[no-untyped-def]
    settings: Settings, sessions, smtp_server: MailServer
) -> None:
    letters = queue_letters(sessions, 2)
    smtp_server.script("250 OK", "550 5.1.1 no such user")

    result = CliRunner(env=mail_env(settings, smtp_server)).invoke(main, ["worker", "--once"])

    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert f"outbox {letters[0].id}: sent (attempt 1)" in lines[0]
    assert f"outbox {letters[1].id}: failed (attempt 1): 550 5.1.1 no such user" in lines[1]
    assert lines[-1] == "worker: mail sent 1, to retry 0, failed 1; jobs run 0"
    assert SUPPORTER[0] not in result.output and SUPPORTER[1] not in result.output
    assert statuses(sessions) == {letters[0].id: ("sent", 1), letters[1].id: ("failed", 1)}


def test_worker_without_a_sending_address(settings: Settings, sessions, runner: CliRunner) -> None:  # type: ignore[no-untyped-def]
    idle = runner.invoke(main, ["worker", "--once"])  # nothing to send: transcription jobs still run
    assert idle.exit_code == 0, idle.output
    assert "mail delivery is off (TESTIMONY_MAIL_FROM is empty)" in idle.stderr

    (letter,) = queue_letters(sessions)
    refused = runner.invoke(main, ["worker", "--once"])
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (
        "testimony: error: TESTIMONY_MAIL_FROM is empty: set the archive's sending address to deliver mail"
    )
    assert statuses(sessions) == {letter.id: ("pending", 0)}


def test_outbox_list_and_retry(settings: Settings, sessions, runner: CliRunner) -> None:  # type: ignore[no-untyped-def]
    letter, other = queue_letters(sessions, 2)
    (confirmation,) = queue_letters(sessions, kind="confirmation", to_email=SUPPORTER[1], to_name=SUPPORTER[0])
    with sessions() as session, session.begin():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == letter.id)
            .values(status="failed", attempts=8, last_error="gave up after 8 attempts: 421 try\n later")
        )

    listed = runner.invoke(main, ["outbox", "list"])
    assert listed.exit_code == 0, listed.output
    rows = listed.stdout.splitlines()
    assert [row.split("  ")[:4] for row in rows] == [
        [str(confirmation.id), "confirmation", "pending", "attempts 0"],
        [str(other.id), "letter", "pending", "attempts 0"],
        [str(letter.id), "letter", "failed", "attempts 8"],
    ]
    assert rows[2].endswith("rep0@legislature.example  gave up after 8 attempts: 421 try later")
    assert "(supporter)" in rows[0] and SUPPORTER[1] not in listed.stdout  # a supporter's address stays private
    failed = runner.invoke(main, ["outbox", "list", "--status", "failed"])
    assert [row.split("  ")[0] for row in failed.stdout.splitlines()] == [str(letter.id)]

    retried = runner.invoke(main, ["outbox", "retry", str(letter.id)])
    assert retried.exit_code == 0 and retried.stdout.strip() == f"outbox {letter.id}: pending again"
    with sessions() as session:
        row = session.get_one(OutboxMessage, letter.id)
        assert (row.status, row.attempts, row.last_error) == ("pending", 0, None)

    again = runner.invoke(main, ["outbox", "retry", str(letter.id)])
    assert again.exit_code == 1
    assert f"outbox message {letter.id} is pending: only a failed message can be retried" in again.stderr
    assert "no outbox message 999" in runner.invoke(main, ["outbox", "retry", "999"]).stderr


def start_worker(settings: Settings, server: MailServer, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **mail_env(settings, server, TESTIMONY_DELIVERY_LEASE_SECONDS="2")}
    with log.open("ab") as out:  # the child has its own copy of the file
        return subprocess.Popen([TESTIMONY, "worker", "--poll", "0.2"], env=env, stdout=out, stderr=subprocess.STDOUT)


def wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_worker_killed_before_the_servers_250_leads_to_one_copy_per_message_id(  # type: ignore[no-untyped-def]
    settings: Settings, sessions, tmp_path: Path
) -> None:
    letters = queue_letters(sessions, 5)
    first: list[subprocess.Popen[bytes]] = []
    killed = threading.Event()

    def kill_the_sender(received: Received) -> None:
        # The message has arrived whole; the worker dies before it hears "250" (as after a power cut).
        if not killed.is_set():
            first[0].send_signal(signal.SIGKILL)
            first[0].wait(10)
            killed.set()

    log = tmp_path / "worker.log"
    with MailServer(on_receipt=kill_the_sender) as server:
        first.append(start_worker(settings, server, log))
        try:
            assert first[0].wait(30) == -signal.SIGKILL
        finally:
            first[0].kill()
        (victim,) = [server.received[0].message["Message-ID"]]
        by_id = {letter.message_id: letter for letter in letters}
        dead = by_id[victim]
        assert statuses(sessions)[dead.id] == ("sending", 1)  # leased for 2 s more: nobody may send it yet
        assert sorted(status for status, _ in statuses(sessions).values()) == ["pending"] * 4 + ["sending"]

        second = start_worker(settings, server, log)
        try:
            wait(lambda: {s for s, _ in statuses(sessions).values()} == {"sent"}, 60, "every letter to be sent")
        finally:
            second.send_signal(signal.SIGTERM)  # finishes the message in hand, then exits cleanly
            assert second.wait(30) == 0, log.read_text()

        assert statuses(sessions)[dead.id] == ("sent", 2)
        assert server.message_ids().count(dead.message_id) == 2  # at least once on the wire: twice here
        assert len(server.received) == len(letters) + 1
        for letter in letters:  # ... and once per Message-ID in every recipient's mailbox
            assert list(server.mailbox(letter.to_email)) == [letter.message_id]
        assert len(set(server.message_ids())) == len(letters)

    output = log.read_text()
    assert "worker: mail sent 5, to retry 0, failed 0" in output  # the second worker's summary
    assert SUPPORTER[0] not in output and SUPPORTER[1] not in output
