"""Putting a message in the outbox: the one way anything in the archive asks for an email to be sent.

A message is a row, written in the caller's transaction, so it exists exactly when what it announces does
(a confirmed letter, a confirmation request). Delivery is `testimony worker`'s job (archive.mail.delivery).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db.models import OutboxMessage
from archive.errors import InvalidInput


def idempotency_key(*parts: str | int) -> str:
    """A stable key for a message from what makes it unique, e.g. ("letter", campaign id, supporter, legislator)."""
    text = "\n".join(str(part) for part in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def message_id(key: str, sender: str) -> str:
    """The Message-ID for a key: the same every time it is sent, so a resend after a crash is the same message."""
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{key[:40]}@{domain}>"


def refuse_header_injection(**values: str | None) -> None:
    """CR or LF in anything that becomes a header could add headers or recipients: refuse, naming the field."""
    for name, value in values.items():
        if value and ("\r" in value or "\n" in value):
            raise InvalidInput(f"{name} must be one line (it goes into an email header)")


def enqueue(
    session: Session,
    *,
    key: str,
    sender: str,
    to_email: str,
    subject: str,
    body: str,
    to_name: str = "",
    from_name: str = "",
    reply_to: str | None = None,
    kind: str = "letter",
    letter_id: int | None = None,
    campaign_id: int | None = None,
) -> OutboxMessage | None:
    """Add a message to the outbox in the session's transaction (the caller commits); None when a message with
    this key is already there (the same letter to the same legislator is never queued twice)."""
    refuse_header_injection(to_email=to_email, to_name=to_name, from_name=from_name, reply_to=reply_to, subject=subject)
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)) is not None:
        return None
    message = OutboxMessage(
        idempotency_key=key,
        message_id=message_id(key, sender),
        kind=kind,
        letter_id=letter_id,
        campaign_id=campaign_id,
        to_email=to_email,
        to_name=to_name,
        from_name=from_name,
        reply_to=reply_to,
        subject=subject,
        body=body,
    )
    session.add(message)
    return message
