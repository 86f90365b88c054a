"""SMTP over STARTTLS and TLS with a login, against aiosmtpd with a certificate the test trusts (or not)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.config import Settings
from archive.db.models import OutboxMessage
from archive.mail.delivery import DeliveryReport, deliver_due
from tests.factories.mail import queue_letters, soon
from tests.factories.mail_server import MailServer

LOGIN = ("letters", "correct horse battery staple")


def settings_for(settings: Settings, server: MailServer, tls: str, password: str = LOGIN[1]) -> Settings:
    return dataclasses.replace(
        settings,
        mail_from="letters@testimony.example",
        smtp_host=server.host,
        smtp_port=server.port,
        smtp_tls=tls,
        smtp_username=LOGIN[0],
        smtp_password=password,
        smtp_timeout=5,
    )


def row(sessions) -> OutboxMessage:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalars(select(OutboxMessage)).one()


@pytest.mark.parametrize("tls", ["starttls", "tls"])
def test_delivery_over_tls_with_a_login(  # type: ignore[no-untyped-def]
    settings: Settings, sessions, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tls: str
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust our certificate (instead of the system's bundle)
    (letter,) = queue_letters(sessions)
    with MailServer(tls=tls, certificate=certificate, login=LOGIN) as server:
        assert deliver_due(settings_for(settings, server, tls), sessions, now=soon()) == DeliveryReport(sent=1)
        assert server.logins == [LOGIN[0]]
        assert server.message_ids() == [letter.message_id]


def test_a_wrong_password_is_retried_not_failed(  # type: ignore[no-untyped-def]
    settings: Settings, sessions, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An operator's mistake, not the message's: it waits with backoff until the password is fixed.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    queue_letters(sessions, 2)
    with MailServer(tls="starttls", certificate=certificate, login=LOGIN) as server:
        wrong = settings_for(settings, server, "starttls", password="hunter2")
        assert deliver_due(wrong, sessions, now=soon()) == DeliveryReport(retried=1)  # the batch stops there
        assert server.received == [] and server.logins == []
    with sessions() as session:
        first, second = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        assert (first.status, first.attempts) == ("pending", 1)
        assert first.last_error is not None and first.last_error.startswith("535 ")
        assert (second.status, second.attempts) == ("pending", 0)


def test_a_certificate_nobody_vouches_for_is_refused(  # type: ignore[no-untyped-def]
    settings: Settings, sessions, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))  # nothing trusts our certificate
    queue_letters(sessions)
    with MailServer(tls="tls", certificate=certificate, login=LOGIN) as server:
        assert deliver_due(settings_for(settings, server, "tls"), sessions, now=soon()) == DeliveryReport(retried=1)
        assert server.received == [] and server.logins == []  # the password never left
    found = row(sessions)
    assert found.status == "pending" and found.last_error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in found.last_error
