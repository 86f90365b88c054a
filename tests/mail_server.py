"""A real SMTP server on loopback (aiosmtpd) that records what it receives and answers as scripted.

Shared by the mail tests (the `smtp_server` fixture in tests/mail/conftest.py) and any other test that needs
to see the mail the archive sends: start one, point TESTIMONY_SMTP_HOST/PORT at it, read `received` or
`mailbox(address)`.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


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
    """

    def __init__(
        self,
        replies: Iterable[str] = (),
        on_receipt: Callable[[Received], None] | None = None,
        port: int | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.replies = list(replies)
        self.rcpt_replies: list[str] = []
        self.on_receipt = on_receipt
        self.received: list[Received] = []
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
        # Parsed as a mail store keeps it: with the wire's CRLF line ends turned into LF.
        message = email.message_from_bytes(content.replace(b"\r\n", b"\n"), policy=email.policy.default)
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

    def start(self) -> MailServer:
        self._controller = Controller(self, hostname=self.host, port=self.port)
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
