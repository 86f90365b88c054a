"""A real SMTP server on loopback (aiosmtpd) that records what it receives and answers as scripted.

Shared by the mail tests (the `smtp_server` fixture in tests/mail/conftest.py) and any other test that needs
to see the mail the archive sends: start one, point TESTIMONY_SMTP_HOST/PORT at it, read `received` or
`mailbox(address)`.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Received:
    """One message as it arrived at DATA, and the reply the server gave (or was about to give)."""

    envelope_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    reply: str
    peer: tuple[str, int]  # the client's address and port: one per connection

    @property
    def accepted(self) -> bool:
        return self.reply.startswith("2")


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem): trust it with SSL_CERT_FILE=cert.pem."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it; it may be taken again later, rarely)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MailServer:
    """An aiosmtpd server on 127.0.0.1.

    `replies`: the reply to each DATA in turn (e.g. ["421 try later", "250 OK"]), then "250 OK" for ever;
    `script_rcpt(...)` does the same for RCPT TO (e.g. "450 mailbox busy", "550 no such user").
    `on_receipt(received)`: called in the server's thread when a message has arrived, before the reply is sent
    (a test can kill the sender there, between the message and its "250").
    `tls`: "none", "starttls" (required before MAIL) or "tls" (from the first byte), with `certificate`
    (cert.pem, key.pem); `login`: (username, password) accepted by AUTH (required before MAIL with STARTTLS);
    `smtputf8`: whether it offers SMTPUTF8 (internationalised addresses), as aiosmtpd does by default.
    """

    def __init__(
        self,
        replies: Iterable[str] = (),
        on_receipt: Callable[[Received], None] | None = None,
        port: int | None = None,
        tls: str = "none",
        certificate: tuple[Path, Path] | None = None,
        login: tuple[str, str] | None = None,
        smtputf8: bool = True,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.replies = list(replies)
        self.rcpt_replies: list[str] = []
        self.on_receipt = on_receipt
        self.received: list[Received] = []
        self.logins: list[str] = []  # usernames that signed in
        self.tls, self.certificate, self.login, self.smtputf8 = tls, certificate, login, smtputf8
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    # aiosmtpd's handler hooks: a recipient is named; the message has arrived whole.
    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        with self._lock:
            reply = self.rcpt_replies.pop(0) if self.rcpt_replies else "250 OK"
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        # Parsed as a mail store keeps it: with the wire's CRLF line ends turned into LF. An SMTPUTF8 message's
        # headers are UTF-8 (RFC 6532), which the bytes parser would read as ASCII: it is read as text.
        content = content.replace(b"\r\n", b"\n")
        if envelope.smtp_utf8:
            message = email.message_from_string(content.decode("utf-8"), policy=email.policy.default)
        else:
            message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            reply = self.replies.pop(0) if self.replies else "250 OK"
            peer = (str(session.peer[0]), int(session.peer[1]))
            received = Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), message, reply, peer)
            self.received.append(received)
        if self.on_receipt is not None:
            self.on_receipt(received)
        return reply

    def script(self, *replies: str) -> None:
        """Answer the next DATA commands with these replies (then 250 again)."""
        with self._lock:
            self.replies.extend(replies)

    def script_rcpt(self, *replies: str) -> None:
        """Answer the next RCPT TO commands with these replies (then 250 again)."""
        with self._lock:
            self.rcpt_replies.extend(replies)

    def mailbox(self, address: str) -> dict[str, EmailMessage]:
        """What a recipient's mail store would hold: accepted messages to `address`, one per Message-ID."""
        with self._lock:
            return {
                str(r.message["Message-ID"]): r.message
                for r in self.received
                if r.accepted and address.lower() in (to.lower() for to in r.rcpt_tos)
            }

    def message_ids(self) -> list[str]:
        """The Message-ID of every message received, duplicates and refused ones included, in order."""
        with self._lock:
            return [str(r.message["Message-ID"]) for r in self.received]

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and self.login is not None:
            given = (auth_data.login.decode(), auth_data.password.decode())
            if given == self.login:
                self.logins.append(given[0])
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> MailServer:
        options: dict[str, Any] = {"enable_SMTPUTF8": self.smtputf8}
        if self.tls != "none":
            assert self.certificate is not None, "TLS needs a certificate (make_certificate)"
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*self.certificate)
            if self.tls == "starttls":
                options.update(tls_context=context, require_starttls=True)
            else:
                options.update(ssl_context=context)
        if self.login is not None:
            # aiosmtpd counts only STARTTLS as TLS for AUTH (and warns when AUTH is required without it): with
            # "tls" (encrypted from the first byte) or "none", AUTH is offered but not required.
            starttls = self.tls == "starttls"
            options.update(authenticator=self._authenticate, auth_required=starttls, auth_require_tls=starttls)
        self._controller = Controller(self, hostname=self.host, port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
