"""Putting a message in the outbox: the one way anything in the archive asks for an email to be sent.

A message is a row, written in the caller's transaction, so it exists exactly when what it announces does
(a confirmed letter, a confirmation request). Delivery is `testimony worker`'s job (archive.mail.delivery).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db.models import OutboxMessage
from archive.errors import InvalidInput, NotFound
from archive.mail.addresses import check_address, clean_name


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
    this key is already there (the same letter to the same legislator is never queued twice). Addresses must be
    addresses and names lose control and format characters (archive.mail.addresses): InvalidInput names the field.
    """
    refuse_header_injection(to_email=to_email, to_name=to_name, from_name=from_name, reply_to=reply_to, subject=subject)
    to_email = check_address(to_email, "to_email")
    reply_to = check_address(reply_to, "reply_to") if reply_to else reply_to
    to_name, from_name = clean_name(to_name), clean_name(from_name)
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


def list_messages(session: Session, *, status: str | None = None, limit: int = 50) -> list[OutboxMessage]:
    """The newest messages first, of one status or all (what `testimony outbox list` shows)."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query))


def retry(session: Session, outbox_id: int, now: dt.datetime) -> OutboxMessage:
    """Queue a failed message again, with a fresh count of attempts (after a mailbox was fixed, say)."""
    message = session.get(OutboxMessage, outbox_id)
    if message is None:
        raise NotFound(f"no outbox message {outbox_id}")
    if message.status != "failed":
        raise InvalidInput(f"outbox message {outbox_id} is {message.status}: only a failed message can be retried")
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = now
    message.leased_until = None
    message.last_error = None
    return message


def waiting(session: Session) -> int:
    """Messages not yet delivered nor failed (pending, or being sent)."""
    count = session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status.in_(("pending", "sending"))))
    return int(count or 0)
