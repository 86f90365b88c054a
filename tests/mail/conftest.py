"""Mail fixtures: a real SMTP server on loopback and settings that point the archive at it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.config import Settings
from tests.factories.mail import ARCHIVE_ADDRESS
from tests.factories.mail_server import MailServer, make_certificate


@pytest.fixture
def smtp_server() -> Iterator[MailServer]:
    """An aiosmtpd server on 127.0.0.1 that records every message (tests.mail_server.MailServer)."""
    with MailServer() as server:
        yield server


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: MailServer) -> Settings:
    return dataclasses.replace(
        settings, mail_from=ARCHIVE_ADDRESS, smtp_host=smtp_server.host, smtp_port=smtp_server.port
    )


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem); a test trusts it with SSL_CERT_FILE."""
    return make_certificate(tmp_path_factory.mktemp("tls"))
