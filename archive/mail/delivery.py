"""Delivering the outbox over SMTP: what `testimony worker` does every few seconds.

Each message is claimed by a compare-and-set UPDATE (pending and due, or "sending" with an expired lease →
"sending", leased until now + lease, attempts + 1) and committed before anything goes on the wire, so any
number of workers on SQLite or PostgreSQL can run at once: the UPDATE's row count says who owns a message
(archive.db.leases, the lease mechanism the background jobs share).
It is then sent on a connection shared by the batch and marked sent (or pending again, or failed) only if
the lease is still ours (same status and attempt number).

Crash semantics. SMTP cannot tell a sender whether a message was accepted when the connection dies after
DATA, and a worker killed between the server's "250" and our commit leaves the row "sending". When its lease
expires another worker sends it again, with the same Message-ID (derived from the idempotency key), which
mail stores use to keep one copy. So delivery is at-least-once on the wire and once per Message-ID at the
recipient; nothing is ever lost, and a duplicate can only follow a crash or a lost connection.

Failures: connection refused, timeouts, lost connections and 4xx replies are temporary (pending again after
delivery_retry_seconds × 2^(attempts-1), at most RETRY_CAP, failed after delivery_max_attempts); 5xx replies,
messages that cannot be composed (a header with a line break, an address that is not one) and messages that
need SMTPUTF8 from a server without it are failed at once with the reason. Any other error with one message fails
that message with its reason and the batch goes on; an error of the database ends the batch, and the worker's
loop waits and looks again. So no message can stop the worker, and none stays "sending" longer than its lease.
Logs name the outbox id, status and attempt, never a supporter's name or address.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import logging
import re
import smtplib
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from email_validator import EmailNotValidError
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.db.leases import compare_and_set, lapsed, lease_end
from archive.db.models import OutboxMessage
from archive.errors import ArchiveError, InvalidInput
from archive.mail.addresses import clean_name, header_address, header_text, needs_smtputf8, wire_address
from archive.mail.outbox import refuse_header_injection

log = logging.getLogger(__name__)

RETRY_CAP = dt.timedelta(hours=6)
ADDRESS = re.compile(r"[^\s<>]+@[^\s<>]+")
CANDIDATES = 20  # rows looked at per claim; other workers may take some of them first
Periodic = Callable[[Settings, "sessionmaker[Session]", dt.datetime], object]
# Headers are set as written (archive.mail.addresses folds them), never refolded by the email package.
ASCII_HEADERS = email.policy.SMTP.clone(refold_source="none")
UTF8_HEADERS = email.policy.SMTPUTF8.clone(refold_source="none")
NO_SMTPUTF8 = "an address has non-ASCII letters before the @, and the SMTP server does not offer SMTPUTF8"
DATABASE_PAUSE = 5.0  # seconds the worker waits after the database failed before it looks again


@dataclass(frozen=True)
class DeliveryReport:
    """What one or more batches did: messages sent, put back to try again later, and failed for good."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(self.sent + other.sent, self.retried + other.retried, self.failed + other.failed)

    def __str__(self) -> str:
        return f"sent {self.sent}, to retry {self.retried}, failed {self.failed}"


@dataclass(frozen=True)
class Outgoing:
    """A composed email and its envelope: addresses as they go on the wire, and whether it needs SMTPUTF8."""

    mail: EmailMessage
    sender: str
    recipient: str
    utf8: bool


def compose(message: OutboxMessage, settings: Settings, *, now: dt.datetime | None = None) -> Outgoing:
    """The email for an outbox row. It comes from the archive's own address with the supporter's name on it
    (sending as the supporter's address would fail DMARC); replies go to Reply-To. InvalidInput names the field
    that cannot go in an email. Headers are written by archive.mail.addresses and kept as written."""
    refuse_header_injection(
        to_email=message.to_email,
        to_name=message.to_name,
        from_name=message.from_name,
        reply_to=message.reply_to,
        subject=message.subject,
        message_id=message.message_id,
    )
    sender = _wire(settings.mail_from, "TESTIMONY_MAIL_FROM")
    recipient = _wire(message.to_email, "to_email")
    reply_to = _wire(message.reply_to, "reply_to") if message.reply_to else ""
    utf8 = any(needs_smtputf8(address) for address in (sender, recipient, reply_to))
    mail = EmailMessage(policy=UTF8_HEADERS if utf8 else ASCII_HEADERS)
    mail.set_raw("From", header_address(clean_name(message.from_name), sender, "From"))
    mail.set_raw("To", header_address(clean_name(message.to_name), recipient, "To"))
    if reply_to:
        mail.set_raw("Reply-To", reply_to)
    mail.set_raw("Subject", header_text(message.subject, "Subject"))
    mail.set_raw("Message-ID", message.message_id)
    mail.set_raw("Date", format_datetime(_utc(now or _utcnow())))
    mail.set_content(message.body, charset="utf-8", cte="quoted-printable")  # 7-bit safe for any server
    return Outgoing(mail, sender, recipient, utf8)


def _wire(address: str, field: str) -> str:
    try:
        return wire_address(address)
    except EmailNotValidError as error:
        raise InvalidInput(f"{field} is not an address we can send to: {error}") from None


def deliver_due(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    now: dt.datetime | None = None,
    limit: int = 100,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """Send up to `limit` due messages on one SMTP connection; `now` fixes the clock (tests step time with
    it); `stop` set ends the batch after the message in hand. A connection that cannot be opened ends the
    batch too (the claimed message is retried later).

    Each message is its own error boundary: whatever goes wrong with one (an address the server cannot take, a
    bug) fails that message with the reason, and the batch goes on. Only the database failing escapes, to the
    worker's loop, which waits and tries again; a claimed message is then retried once its lease runs out."""
    if not settings.mail_from:
        raise ArchiveError("TESTIMONY_MAIL_FROM is empty: set the archive's sending address to deliver mail")

    def clock() -> dt.datetime:
        return _utc(now) if now is not None else _utcnow()

    counts = {"sent": 0, "pending": 0, "failed": 0}
    connection: _Connection = _Connection(settings)
    try:
        for _ in range(limit):
            if stop is not None and stop.is_set():
                break
            message = _claim_next(settings, sessions, clock())
            if message is None:
                break
            try:
                status, reason, go_on = _deliver(settings, message, connection, clock())
            except Exception as error:  # not foreseen below: this message fails; the connection may be in any state
                connection.close()
                status, reason, go_on = "failed", f"could not be sent: {describe(error)}", True
            if status == "pending":
                counts[_retry_or_fail(settings, sessions, message, clock(), reason or "")] += 1
            else:
                counts[_settle(sessions, message, status, clock(), error=reason)] += 1
            if not go_on:
                break
    finally:
        connection.close()
    return DeliveryReport(sent=counts["sent"], retried=counts["pending"], failed=counts["failed"])


def _deliver(
    settings: Settings, message: OutboxMessage, connection: _Connection, now: dt.datetime
) -> tuple[str, str | None, bool]:
    """Send one claimed message: (status to record, the reason, whether the batch goes on)."""
    if message.attempts > settings.delivery_max_attempts:  # its workers died while sending, every time
        return "failed", f"no worker finished sending it in {message.attempts - 1} attempts", True
    try:
        outgoing = compose(message, settings, now=now)
    except InvalidInput as error:
        return "failed", str(error), True
    try:
        smtp = connection.open()
    except (OSError, smtplib.SMTPException) as error:
        return "pending", describe(error), False
    if outgoing.utf8 and not smtp.has_extn("smtputf8"):
        return "failed", NO_SMTPUTF8, True
    options = ["SMTPUTF8", "BODY=8BITMIME"] if outgoing.utf8 else []
    try:
        smtp.sendmail(outgoing.sender, [outgoing.recipient], outgoing.mail.as_bytes(), mail_options=options)
    except (OSError, smtplib.SMTPException) as error:
        temporary, connection_lost = _classify(error)
        if connection_lost:
            connection.close()
        return ("pending" if temporary else "failed"), describe(error), True
    return "sent", None, True


def run_worker(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    once: bool,
    poll: float,
    periodic: Iterable[Periodic] = (),
    stop: threading.Event | None = None,
    limit: int = 100,
) -> DeliveryReport:
    """Deliver what is due, run each `periodic(settings, sessions, now)` task, wait `poll` seconds, again —
    until `stop` is set (or after one round when `once`). A failing batch or periodic task is logged and the
    loop goes on: mail delivery must not stop because, say, the database restarted or a purge failed."""
    stop = stop or threading.Event()
    tasks = list(periodic)
    total = DeliveryReport()
    if not settings.mail_from:
        raise ArchiveError("TESTIMONY_MAIL_FROM is empty: set the archive's sending address to deliver mail")
    while True:
        while not stop.is_set():  # drain: batches until one comes back short
            try:
                report = deliver_due(settings, sessions, limit=limit, stop=stop)
            except Exception as error:  # the database went away, say: wait, then carry on with the next look
                # One line, without addresses: a database error quotes the statement's parameters.
                words = ADDRESS.sub("<address>", describe(error).splitlines()[0])
                log.error("mail delivery failed (%s); the worker tries again in %.0f s", words, DATABASE_PAUSE)
                stop.wait(DATABASE_PAUSE if not once else 0)
                break
            total += report
            if report.total < limit:
                break
        for task in tasks:
            if stop.is_set():
                break
            try:
                task(settings, sessions, _utcnow())
            except Exception:
                log.exception("periodic task %s failed; the worker goes on", getattr(task, "__name__", task))
        if once or stop.wait(poll):
            return total


# --- claiming and settling rows -------------------------------------------------------------------------------


def _due(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", lapsed(OutboxMessage.leased_until, now)),  # its worker died
    )


def _claim_next(settings: Settings, sessions: sessionmaker[Session], now: dt.datetime) -> OutboxMessage | None:
    """Take one due message: the UPDATE repeats the due condition, so of several workers only one matches."""
    with sessions() as session:
        candidates = session.scalars(
            select(OutboxMessage.id)
            .where(_due(now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(CANDIDATES)
        ).all()
        session.rollback()  # the UPDATE starts its own transaction: no stale snapshot on SQLite
        for outbox_id in candidates:
            claimed = compare_and_set(
                session,
                OutboxMessage.id,
                outbox_id,
                _due(now),
                status="sending",
                leased_until=lease_end(now, settings.delivery_lease_seconds),
                attempts=OutboxMessage.attempts + 1,
            )
            session.commit()
            if claimed:
                return session.get(OutboxMessage, outbox_id)
    return None


def _settle(
    sessions: sessionmaker[Session],
    message: OutboxMessage,
    status: str,
    now: dt.datetime,
    *,
    error: str | None = None,
    next_attempt_at: dt.datetime | None = None,
) -> str:
    """Record the outcome, if the lease is still ours (the status and attempt number we claimed with)."""
    values: dict[str, object] = {"status": status, "leased_until": None, "last_error": error}
    if status == "sent":
        values["sent_at"] = now
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    with sessions() as session, session.begin():
        settled = compare_and_set(
            session,
            OutboxMessage.id,
            message.id,
            and_(OutboxMessage.status == "sending", OutboxMessage.attempts == message.attempts),
            **values,
        )
    # A server's reply may quote the recipient, who may be a supporter (confirmations): no addresses in logs.
    reason = f": {ADDRESS.sub('<address>', error)}" if error else ""
    if not settled:
        log.warning("outbox %s: %s, but another worker had taken it over (attempt %s)", message.id, status,
                    message.attempts)  # fmt: skip
    elif status == "pending":
        log.info("outbox %s: retry at %s (attempt %s)%s", message.id, f"{next_attempt_at:%Y-%m-%d %H:%M:%S}Z",
                 message.attempts, reason)  # fmt: skip
    else:
        log.info("outbox %s: %s (attempt %s)%s", message.id, status, message.attempts, reason)
    return status


def _retry_or_fail(
    settings: Settings, sessions: sessionmaker[Session], message: OutboxMessage, now: dt.datetime, error: str
) -> str:
    if message.attempts >= settings.delivery_max_attempts:
        return _settle(sessions, message, "failed", now, error=f"gave up after {message.attempts} attempts: {error}")
    return _settle(sessions, message, "pending", now, error=error, next_attempt_at=now + backoff(settings, message))


def backoff(settings: Settings, message: OutboxMessage) -> dt.timedelta:
    """The wait after a temporary failure of the message's latest attempt: base × 2^(attempts-1), capped."""
    doublings = min(max(message.attempts - 1, 0), 20)  # 2^20 × any sane base is past the cap already
    return min(dt.timedelta(seconds=settings.delivery_retry_seconds * 2**doublings), RETRY_CAP)


# --- SMTP ------------------------------------------------------------------------------------------------------


class _Connection:
    """The batch's SMTP connection, opened at its first message and again after it was lost."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def open(self) -> smtplib.SMTP:
        if self.smtp is None:
            self.smtp = connect(self.settings)
        return self.smtp

    def close(self) -> None:
        if self.smtp is not None:
            smtp, self.smtp = self.smtp, None
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


def connect(settings: Settings, timeout: float | None = None) -> smtplib.SMTP:
    """A logged-in connection as the settings say (plain, STARTTLS or TLS, certificates checked), its EHLO done
    (what the server offers, SMTPUTF8 among it, is known)."""
    host, port = settings.smtp_host, settings.smtp_port
    timeout = settings.smtp_timeout if timeout is None else timeout
    connection: smtplib.SMTP
    if settings.smtp_tls == "tls":
        connection = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if settings.smtp_tls == "starttls":
            connection.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            connection.login(settings.smtp_username, settings.smtp_password)
        connection.ehlo_or_helo_if_needed()
    except BaseException:
        connection.close()
        raise
    return connection


def _classify(error: Exception) -> tuple[bool, bool]:
    """(temporary, connection lost) for an error while sending one message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return all(400 <= code < 500 for code in codes), False
    if isinstance(error, smtplib.SMTPResponseException):
        # smtplib closes the connection itself after a 421 ("service closing").
        return not 500 <= error.smtp_code < 600, error.smtp_code == 421
    return True, True  # refused, timed out, disconnected: the connection is gone


def describe(error: Exception) -> str:
    """The server's own words where it gave any, for last_error."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {_text(reply)}" for code, reply in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(moment: dt.datetime) -> dt.datetime:
    """Aware UTC: SQLite stores the clock reading without its zone, so every time must be in one zone."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
