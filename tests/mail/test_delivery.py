"""Delivery of the outbox to a real SMTP server on loopback, on SQLite and PostgreSQL; time is stepped with now=."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
from sqlalchemy import update

from archive.config import Settings
from archive.db.models import OutboxMessage
from archive.db.session import connect
from archive.errors import ArchiveError
from archive.mail.delivery import DeliveryReport, deliver_due, run_worker
from tests.factories.mail import ARCHIVE_ADDRESS, SUPPORTER, queue_letters, rows, soon, utc
from tests.factories.mail_server import MailServer, free_port

SECOND = dt.timedelta(seconds=1)


def test_a_queued_letter_arrives_as_written(mail_settings: Settings, sessions, smtp_server: MailServer) -> None:  # type: ignore[no-untyped-def]
    (letter,) = queue_letters(sessions, to_name="Rep. Anne O'Brien, Jr.")
    now = soon()

    assert deliver_due(mail_settings, sessions, now=now) == DeliveryReport(sent=1)

    (received,) = smtp_server.received
    mail = received.message
    assert received.envelope_from == ARCHIVE_ADDRESS  # bounces come back to the archive
    assert received.rcpt_tos == ("rep0@legislature.example",)
    (sender,) = mail["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (SUPPORTER[0], ARCHIVE_ADDRESS)  # never the supporter's address
    (recipient,) = mail["To"].addresses
    assert (recipient.display_name, recipient.addr_spec) == ("Rep. Anne O'Brien, Jr.", "rep0@legislature.example")
    assert mail["Reply-To"].addresses[0].addr_spec == SUPPORTER[1]
    assert mail["Subject"] == "Please act on S.0 — the testimony"
    assert mail["Message-ID"] == letter.message_id and letter.message_id.endswith("@testimony.example>")
    assert mail["Date"].datetime == now.replace(microsecond=0)
    assert mail.get_content_type() == "text/plain" and mail.get_content_charset() == "utf-8"
    assert mail.get_content() == "Dear Rep. Number 0,\n\nI heard the testimony. Café, naïve, ✓.\n\nAna\n"

    row = rows(sessions)[letter.id]
    assert (row.status, row.attempts, row.last_error, row.leased_until) == ("sent", 1, None, None)
    assert utc(row.sent_at) == now
    assert deliver_due(mail_settings, sessions, now=now + dt.timedelta(days=1)) == DeliveryReport()  # never again


def test_one_connection_carries_a_batch(mail_settings: Settings, sessions, smtp_server: MailServer) -> None:  # type: ignore[no-untyped-def]
    queue_letters(sessions, 5)
    assert deliver_due(mail_settings, sessions, now=soon()) == DeliveryReport(sent=5)
    assert len({received.peer for received in smtp_server.received}) == 1
    assert [m["To"].addresses[0].addr_spec for m in (r.message for r in smtp_server.received)] == [
        f"rep{n}@legislature.example" for n in range(5)
    ]


def test_a_temporary_refusal_is_retried_after_a_backoff(  # type: ignore[no-untyped-def]
    mail_settings: Settings, sessions, smtp_server: MailServer
) -> None:
    (letter,) = queue_letters(sessions)
    smtp_server.script("421 4.3.2 try later")
    t0 = soon()

    assert deliver_due(mail_settings, sessions, now=t0) == DeliveryReport(retried=1)
    row = rows(sessions)[letter.id]
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "421 4.3.2 try later")
    assert utc(row.next_attempt_at) == t0 + 30 * SECOND  # delivery_retry_seconds × 2^0

    assert deliver_due(mail_settings, sessions, now=t0 + 29 * SECOND) == DeliveryReport()  # not due yet
    assert deliver_due(mail_settings, sessions, now=t0 + 30 * SECOND) == DeliveryReport(sent=1)
    row = rows(sessions)[letter.id]
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert [r.reply for r in smtp_server.received] == ["421 4.3.2 try later", "250 OK"]
    assert list(smtp_server.mailbox("rep0@legislature.example")) == [letter.message_id]  # delivered once


def test_backoff_doubles_and_gives_up_after_the_last_attempt(  # type: ignore[no-untyped-def]
    mail_settings: Settings, sessions, smtp_server: MailServer
) -> None:
    settings = dataclasses.replace(mail_settings, delivery_max_attempts=3, delivery_retry_seconds=10)
    (letter,) = queue_letters(sessions)
    smtp_server.script("451 busy", "452 still busy", "421 go away")
    t0 = soon()

    deliver_due(settings, sessions, now=t0)
    assert utc(rows(sessions)[letter.id].next_attempt_at) == t0 + 10 * SECOND
    deliver_due(settings, sessions, now=t0 + 10 * SECOND)
    assert utc(rows(sessions)[letter.id].next_attempt_at) == t0 + 30 * SECOND  # 10 s, then 20 s
    assert deliver_due(settings, sessions, now=t0 + 30 * SECOND) == DeliveryReport(failed=1)
    row = rows(sessions)[letter.id]
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "gave up after 3 attempts: 421 go away")
    assert deliver_due(settings, sessions, now=t0 + dt.timedelta(days=30)) == DeliveryReport()
    assert smtp_server.mailbox("rep0@legislature.example") == {}


def test_a_permanent_refusal_fails_with_the_servers_words(  # type: ignore[no-untyped-def]
    mail_settings: Settings, sessions, smtp_server: MailServer
) -> None:
    first, second = queue_letters(sessions, 2)
    smtp_server.script("550 5.7.1 message content rejected")
    t0 = soon()

    assert deliver_due(mail_settings, sessions, now=t0) == DeliveryReport(sent=1, failed=1)
    found = rows(sessions)
    assert (found[first.id].status, found[first.id].last_error) == ("failed", "550 5.7.1 message content rejected")
    assert found[second.id].status == "sent"  # the batch goes on after a refusal
    assert deliver_due(mail_settings, sessions, now=t0 + dt.timedelta(days=30)) == DeliveryReport()
    assert len(smtp_server.received) == 2  # never tried again


def test_a_refused_recipient_temporary_or_permanent(  # type: ignore[no-untyped-def]
    mail_settings: Settings, sessions, smtp_server: MailServer
) -> None:
    busy, unknown = queue_letters(sessions, 2)
    smtp_server.script_rcpt("450 4.2.1 mailbox busy", "550 5.1.1 <rep1@legislature.example>: no such user")

    assert deliver_due(mail_settings, sessions, now=soon()) == DeliveryReport(retried=1, failed=1)
    found = rows(sessions)
    assert (found[busy.id].status, found[busy.id].last_error) == ("pending", "450 4.2.1 mailbox busy")
    assert (found[unknown.id].status, found[unknown.id].last_error) == (
        "failed",
        "550 5.1.1 <rep1@legislature.example>: no such user",
    )
    assert smtp_server.received == []


def test_nobody_listening_then_the_server_comes_up(mail_settings: Settings, sessions) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    settings = dataclasses.replace(mail_settings, smtp_port=port, smtp_timeout=5)
    letters = queue_letters(sessions, 3)
    t0 = soon()

    # The claimed letter waits its backoff; the batch stops instead of wearing down the others' attempts.
    assert deliver_due(settings, sessions, now=t0) == DeliveryReport(retried=1)
    found = rows(sessions)
    first = found[letters[0].id]
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.last_error is not None and first.last_error.startswith("ConnectionRefusedError")
    assert utc(first.next_attempt_at) == t0 + 30 * SECOND
    assert [found[letter.id].attempts for letter in letters[1:]] == [0, 0]

    with MailServer(port=port) as server:
        assert deliver_due(settings, sessions, now=t0 + 30 * SECOND) == DeliveryReport(sent=3)
        assert sorted(server.message_ids()) == sorted(letter.message_id for letter in letters)
    assert {row.status for row in rows(sessions).values()} == {"sent"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to_name", "Rep. X\r\nBcc: everyone@example.org"),
        ("subject", "Hello\nBcc: everyone@example.org"),
        ("from_name", "Ana\rX-Evil: yes"),
        ("to_email", "rep@legislature.example, everyone@example.org"),
    ],
)
def test_header_injection_fails_the_row_and_sends_nothing(  # type: ignore[no-untyped-def]
    mail_settings: Settings, sessions, smtp_server: MailServer, field: str, value: str
) -> None:
    # enqueue refuses these; a row written some other way must still never reach the wire.
    (bad,) = queue_letters(sessions)
    (good,) = queue_letters(sessions, to_email="rep9@legislature.example")
    with sessions() as session, session.begin():
        session.execute(update(OutboxMessage).where(OutboxMessage.id == bad.id).values({field: value}))
    t0 = soon()

    assert deliver_due(mail_settings, sessions, now=t0) == DeliveryReport(sent=1, failed=1)
    row = rows(sessions)[bad.id]
    assert row.status == "failed" and row.last_error is not None and row.last_error.startswith(field)
    assert [r.rcpt_tos for r in smtp_server.received] == [("rep9@legislature.example",)]
    assert deliver_due(mail_settings, sessions, now=t0 + dt.timedelta(days=30)) == DeliveryReport()
    assert rows(sessions)[good.id].status == "sent"


def test_a_message_whose_worker_died_is_sent_again_with_the_same_message_id(  # type: ignore[no-untyped-def]
    mail_settings: Settings, sessions, smtp_server: MailServer
) -> None:
    (letter,) = queue_letters(sessions)
    t0 = soon()
    # As a worker leaves it when killed after the claim's commit: sending, leased for delivery_lease_seconds.
    with sessions() as session, session.begin():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == letter.id)
            .values(status="sending", attempts=1, leased_until=t0 + 300 * SECOND)
        )

    assert deliver_due(mail_settings, sessions, now=t0 + 299 * SECOND) == DeliveryReport()  # still leased
    assert deliver_due(mail_settings, sessions, now=t0 + 301 * SECOND) == DeliveryReport(sent=1)
    row = rows(sessions)[letter.id]
    assert (row.status, row.attempts) == ("sent", 2)
    assert smtp_server.message_ids() == [letter.message_id]


def test_two_workers_send_each_message_exactly_once(  # type: ignore[no-untyped-def]
    mail_settings: Settings, sessions, smtp_server: MailServer
) -> None:
    letters = queue_letters(sessions, 50)
    smtp_server.on_receipt = lambda _received: threading.Event().wait(0.002)  # let the workers interleave
    now = soon()
    start = threading.Barrier(2)
    reports: list[DeliveryReport] = []

    def work() -> None:
        own = connect(mail_settings.sqlalchemy_url)  # its own engine and pool, as a separate process has
        try:
            start.wait()
            reports.append(deliver_due(mail_settings, own, now=now))
        finally:
            own.kw["bind"].dispose()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=60)

    assert sorted(smtp_server.message_ids()) == sorted(letter.message_id for letter in letters)  # each once
    assert sum(report.sent for report in reports) == 50 and len(reports) == 2
    assert all(report.sent > 0 for report in reports), reports  # both took part
    assert {(row.status, row.attempts) for row in rows(sessions).values()} == {("sent", 1)}


def test_no_sending_address_no_delivery(settings: Settings, sessions) -> None:  # type: ignore[no-untyped-def]
    queue_letters(sessions)
    with pytest.raises(ArchiveError, match="TESTIMONY_MAIL_FROM is empty"):
        deliver_due(settings, sessions)
    assert rows(sessions)[1].status == "pending"


def test_the_worker_loop_runs_periodic_tasks_and_keeps_going_when_one_fails(  # type: ignore[no-untyped-def]
    mail_settings: Settings, sessions, smtp_server: MailServer
) -> None:
    queue_letters(sessions, 2)
    stop = threading.Event()
    calls: list[tuple[Settings, object, dt.datetime]] = []

    def purge(settings: Settings, sessions_, now: dt.datetime) -> None:  # type: ignore[no-untyped-def]
        calls.append((settings, sessions_, now))
        if len(calls) == 3:
            stop.set()

    def broken(*_: object) -> None:
        raise RuntimeError("the purge's database is gone")

    report = run_worker(mail_settings, sessions, once=False, poll=0.01, periodic=[broken, purge], stop=stop)

    assert report == DeliveryReport(sent=2)
    assert len(calls) == 3  # once per loop, until stopped
    assert all(settings is mail_settings and given is sessions for settings, given, _ in calls)
    assert all(now.tzinfo is not None for _, _, now in calls)
    assert run_worker(mail_settings, sessions, once=True, poll=60, periodic=[purge]) == DeliveryReport()
    assert len(calls) == 4
