"""Mail readiness (archive.mail.readiness) against a real aiosmtpd server, up and then down."""

from __future__ import annotations

import dataclasses

from archive.config import Settings
from archive.mail import readiness
from archive.mail.readiness import cached_mail_problem, mail_problem
from tests.factories.mail import ARCHIVE_ADDRESS
from tests.factories.mail_server import MailServer


def configured(tmp_path, server: MailServer, **more: object) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(home=tmp_path, mail_from=ARCHIVE_ADDRESS, smtp_host=server.host, smtp_port=server.port, **more)  # type: ignore[arg-type]


def test_no_sending_address_says_which_setting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    problem = mail_problem(Settings(home=tmp_path))
    assert problem is not None and problem.startswith("Mail cannot be sent: no sending address is configured.")
    assert "TESTIMONY_MAIL_FROM=" in problem and "testimony worker" in problem


def test_a_server_up_is_ready_and_down_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = MailServer().start()
    settings = configured(tmp_path, server)
    try:
        assert mail_problem(settings) is None
        assert server.received == []  # a test connection sends nothing
    finally:
        server.stop()
    problem = mail_problem(settings)
    assert problem is not None
    assert f"the SMTP server 127.0.0.1:{server.port} refused a test connection (ConnectionRefusedError" in problem
    assert "TESTIMONY_SMTP_HOST" in problem


def test_a_wrong_login_is_a_problem(tmp_path, certificate, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    with MailServer(tls="starttls", certificate=certificate, login=("letters", "right")) as server:
        good = configured(tmp_path, server, smtp_tls="starttls", smtp_username="letters", smtp_password="right")
        assert mail_problem(good) is None
        problem = mail_problem(dataclasses.replace(good, smtp_password="wrong"))
        assert problem is not None and "refused a test connection (535" in problem


def test_the_banner_asks_at_most_once_a_minute(tmp_path) -> None:  # type: ignore[no-untyped-def]
    readiness.forget()
    server = MailServer().start()
    settings = configured(tmp_path, server)
    assert cached_mail_problem(settings, now=1000.0) is None
    server.stop()
    assert cached_mail_problem(settings, now=1030.0) is None  # asked 30 s ago
    assert "refused a test connection" in (cached_mail_problem(settings, now=1061.0) or "")
    readiness.forget()
