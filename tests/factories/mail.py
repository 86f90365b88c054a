"""Outbox rows for the mail tests: letters queued as the campaigns code queues them, and clock helpers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from archive.db.models import OutboxMessage
from archive.mail.outbox import enqueue, idempotency_key

ARCHIVE_ADDRESS = "letters@testimony.example"
SUPPORTER = ("Ana Núñez", "ana.nunez@supporter.example")


def queue_letters(sessions, count: int = 1, *, kind: str = "letter", **fields: str) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    """`count` letters from one supporter, each to its own legislator, queued as the campaigns code does."""
    messages = []
    with sessions() as session, session.begin():
        for number in range(count):
            values = {
                "to_email": f"rep{number}@legislature.example",
                "to_name": f"Rep. Number {number}",
                "from_name": SUPPORTER[0],
                "reply_to": SUPPORTER[1],
                "subject": f"Please act on S.{number} — the testimony",
                "body": f"Dear Rep. Number {number},\n\nI heard the testimony. Café, naïve, ✓.\n\nAna\n",
                **fields,
            }
            key = idempotency_key(kind, 1, SUPPORTER[1], values["to_email"], number)
            message = enqueue(session, key=key, sender=ARCHIVE_ADDRESS, kind=kind, **values)
            assert message is not None
            messages.append(message)
    return messages


def utc(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives times back without their zone (they are stored in UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def soon() -> dt.datetime:
    """A moment just after now, so rows queued now are due (the tests step time from it with now=)."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)


def rows(sessions) -> dict[int, OutboxMessage]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return {row.id: row for row in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))}
