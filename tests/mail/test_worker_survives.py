"""No message can stop the worker: internationalised addresses with and without SMTPUTF8, rows that no form would
write (as an older version or a hand edit leaves them), an error nobody foresaw, and the database going away."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import text, update

from archive.cli.main import main
from archive.config import Settings
from archive.db.models import OutboxMessage
from archive.mail.delivery import NO_SMTPUTF8, DeliveryReport, deliver_due, run_worker
from tests.factories.mail import ARCHIVE_ADDRESS, queue_letters, rows, soon
from tests.factories.mail_server import MailServer


@pytest.mark.parametrize("smtputf8", [True, False])
def test_internationalised_addresses_with_and_without_smtputf8(  # type: ignore[no-untyped-def]
    mail_settings: Settings, sessions, smtputf8: bool
) -> None:
    (idn,) = queue_letters(sessions, kind="confirmation", to_email="ana@exämple.net", to_name="Ana Núñez")
    (utf8,) = queue_letters(sessions, kind="confirmation", to_email="josé@exämple.net", to_name="José Núñez")
    (plain,) = queue_letters(sessions, reply_to="josé@exämple.net", to_email="rep9@legislature.example")
    with MailServer(smtputf8=smtputf8) as server:
        settings = dataclasses.replace(mail_settings, smtp_port=server.port)

        report = deliver_due(settings, sessions, now=soon())

        received = {r.rcpt_tos: r.message for r in server.received}
    found = rows(sessions)
    # An internationalised domain travels as punycode, which every server carries.
    assert found[idn.id].status == "sent"
    (to,) = received[("ana@xn--exmple-cua.net",)]["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Ana Núñez", "ana@xn--exmple-cua.net")
    if smtputf8:  # a local part with é needs SMTPUTF8: in the envelope and the headers, as UTF-8
        assert report == DeliveryReport(sent=3)
        (to,) = received[("josé@xn--exmple-cua.net",)]["To"].addresses
        assert (to.display_name, to.addr_spec) == ("José Núñez", "josé@xn--exmple-cua.net")
        letter = received[("rep9@legislature.example",)]
        assert letter["Reply-To"].addresses[0].addr_spec == "josé@xn--exmple-cua.net"
    else:  # without it: failed with the reason, and the others went
        assert report == DeliveryReport(sent=1, failed=2)
        assert (found[utf8.id].status, found[utf8.id].last_error) == ("failed", NO_SMTPUTF8)
        assert (found[plain.id].status, found[plain.id].last_error) == ("failed", NO_SMTPUTF8)
        assert list(received) == [("ana@xn--exmple-cua.net",)]


def test_rows_no_form_would_write_fail_with_their_reason_and_the_worker_goes_on(  # type: ignore[no-untyped-def]
    settings: Settings, sessions
) -> None:
    """The review's finding, as rows written before the form checked them: `testimony worker` exited on the first
    (UnicodeEncodeError, or "Header values may not contain linefeed"), and the message stayed "sending"."""
    letters = queue_letters(sessions, 6)
    bad = {
        letters[0].id: {"to_email": "josé@exämple.net"},
        letters[1].id: {"from_name": "Mallory\x0bBcc: x"},
        # A NUL must never reach RCPT TO (PostgreSQL cannot even store one: there, another control character).
        letters[2].id: {"to_email": "rep@legislature.example" + ("\x01" if settings.database_url else "\x00")},
        letters[3].id: {"to_name": 'Rep\u2028Bcc: everyone@example.org, "Ana"'},
        letters[4].id: {"message_id": "<ключ@testimony.example>"},  # nothing checks it: an error nobody foresaw
    }
    with sessions() as session, session.begin():
        for outbox_id, values in bad.items():
            session.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(**values))
    with MailServer(smtputf8=False) as server:
        env = {
            "TESTIMONY_HOME": str(settings.home),
            "TESTIMONY_DATABASE_URL": settings.database_url,
            "TESTIMONY_MAIL_FROM": ARCHIVE_ADDRESS,
            "TESTIMONY_SMTP_HOST": server.host,
            "TESTIMONY_SMTP_PORT": str(server.port),
        }
        result = CliRunner(env=env).invoke(main, ["worker", "--once"])
        received = {r.rcpt_tos[0]: r.message for r in server.received}

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == "worker: mail sent 3, to retry 0, failed 3; jobs run 0"
    found = rows(sessions)
    assert {row.status for row in found.values()} == {"sent", "failed"}  # nothing left "sending"
    assert found[letters[0].id].last_error == NO_SMTPUTF8
    assert found[letters[2].id].last_error.startswith("to_email is not an address we can send to: ")
    assert found[letters[4].id].last_error.startswith("could not be sent: UnicodeEncodeError")
    # The vertical tab became a space; the line separator too, and the quotes stayed quotes.
    assert received["rep1@legislature.example"]["From"].addresses[0].display_name == "Mallory Bcc: x"
    (to,) = received["rep3@legislature.example"]["To"].addresses
    assert (to.display_name, to.addr_spec) == ('Rep Bcc: everyone@example.org, "Ana"', "rep3@legislature.example")
    listed = CliRunner(env=env).invoke(main, ["outbox", "list", "--status", "failed"])
    assert NO_SMTPUTF8 in listed.stdout and "could not be sent: UnicodeEncodeError" in listed.stdout


def test_the_worker_waits_out_a_database_failure_and_goes_on(  # type: ignore[no-untyped-def]
    mail_settings: Settings, sessions, smtp_server: MailServer, monkeypatch, caplog
) -> None:
    monkeypatch.setattr("archive.mail.delivery.DATABASE_PAUSE", 0.2)
    queue_letters(sessions, 2)
    with sessions() as session, session.begin():  # the table is gone, as while a database restarts
        session.execute(text("ALTER TABLE outbox RENAME TO outbox_away"))
    stop = threading.Event()
    reports: list[DeliveryReport] = []
    worker = threading.Thread(
        target=lambda: reports.append(run_worker(mail_settings, sessions, once=False, poll=0.1, stop=stop))
    )
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while "mail delivery failed" not in caplog.text:
            assert time.monotonic() < deadline and worker.is_alive()
            time.sleep(0.05)
        with sessions() as session, session.begin():
            session.execute(text("ALTER TABLE outbox_away RENAME TO outbox"))
        while len(smtp_server.received) < 2:
            assert time.monotonic() < deadline + 10 and worker.is_alive()
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(30)
    assert reports == [DeliveryReport(sent=2)]
    assert {row.status for row in rows(sessions).values()} == {"sent"}
