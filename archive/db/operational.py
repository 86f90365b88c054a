"""Tables of operation rather than content (archive.db.version does not count their writes): accounts, the audit
log and rate limits, campaigns with their letters and the outbox, background jobs."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db.base import Base
from archive.db.types import UtcDateTime, utcnow

if TYPE_CHECKING:
    from archive.db.models import Excerpt, Meeting


# Accounts (archive.accounts.users). An admin manages accounts; a curator keeps meetings; an organizer runs campaigns.
ROLES = ("admin", "curator", "organizer")


class User(Base):
    """A person who signs in. The email is stored lower-cased; the password only as an argon2 hash."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))  # one of ROLES
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # base32; None: no second factor
    totp_last_counter: Mapped[int | None] = mapped_column(Integer)  # the last accepted code's step: no replays
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    password_changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class UserSession(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is stored, so a copy of the
    database signs nobody in. Logout and a password change delete rows: the server forgets the session."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())

    user: Mapped[User] = relationship()


class AuditEvent(Base):
    """An append-only record of who did what: logins (and failed ones), edits, exports, role changes.

    `actor` keeps the email as it was, so the record outlives the account; failed logins are also what login
    throttling counts (by email and by address).
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_action_at", "action", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(String(320), default="")  # an email, "cli", or "" for anonymous
    action: Mapped[str] = mapped_column(String(50))  # e.g. "login", "login-failed", "campaign-export"
    target: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str | None] = mapped_column(String(64))  # the client's IP address, where there is one
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RateLimit(Base):
    """A counter of attempts (failed sign-ins, letters) for one key in a window that ends at `expires_at`
    (archive.db.limits). The key is a SHA-256 of what is counted, so the table holds no address or email."""

    __tablename__ = "rate_limits"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)


# Campaigns (archive.campaigns): letter-writing calls to action that cite excerpts and address legislators.
CAMPAIGN_STATUSES = ("draft", "open", "closed")
CAMPAIGN_TARGETS = ("house", "senate", "both", "list")
LETTER_STATUSES = ("unconfirmed", "confirmed", "expired")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")


class Campaign(Base):
    """A call to action. `target` "list" sends to `recipients` (legislators' emails: an import replaces ids)."""

    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    why: Mapped[str] = mapped_column(Text, default="")
    target: Mapped[str] = mapped_column(String(10), default="both")  # one of CAMPAIGN_TARGETS
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(200))
    # Placeholders: {legislator_name} {supporter_name} {town} {quote} {excerpt_link} (see archive.campaigns).
    letter_template: Mapped[str] = mapped_column(Text)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="draft")  # one of CAMPAIGN_STATUSES
    daily_cap: Mapped[int] = mapped_column(Integer, default=2000)  # confirmed letters per UTC day
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # When the supporters' names, emails and towns were deleted (settings.supporter_retention_days after closing).
    purged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    excerpts: Mapped[list[CampaignExcerpt]] = relationship(
        back_populates="campaign", order_by="CampaignExcerpt.position", cascade="all, delete-orphan"
    )
    organizers: Mapped[list[CampaignOrganizer]] = relationship(cascade="all, delete-orphan")


class CampaignExcerpt(Base):
    __tablename__ = "campaign_excerpts"
    __table_args__ = (UniqueConstraint("campaign_id", "excerpt_id", name="uq_campaign_excerpts_campaign_excerpt"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    excerpt_id: Mapped[int] = mapped_column(ForeignKey("excerpts.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    campaign: Mapped[Campaign] = relationship(back_populates="excerpts")
    excerpt: Mapped[Excerpt] = relationship()


class CampaignOrganizer(Base):
    """An organizer account that may edit this campaign and see who wrote (admins may too)."""

    __tablename__ = "campaign_organizers"
    __table_args__ = (UniqueConstraint("campaign_id", "user_id", name="uq_campaign_organizers_campaign_user"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    user: Mapped[User] = relationship()


class Letter(Base):
    """A supporter's letter: written at once, sent only after they click the emailed confirmation link.

    Personal data (name, email, town, body) is visible only to the campaign's organizers and admins, and is
    blanked `supporter_retention_days` after the campaign closes. `form_key` is the form's random token: the same
    form sent twice (a double click, the back button) finds this letter instead of making another.
    """

    __tablename__ = "letters"
    __table_args__ = (Index("ix_letters_campaign_status", "campaign_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    form_key: Mapped[str] = mapped_column(String(64), unique=True)
    supporter_name: Mapped[str] = mapped_column(String(200))
    supporter_email: Mapped[str] = mapped_column(String(320), index=True)  # lower-cased
    town: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # the supporter's edited letter, without the salutation
    # Who it goes to, chosen at writing: [{"name", "email", "chamber", "district"}, …].
    recipients: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), default="unconfirmed")  # one of LETTER_STATUSES
    confirm_token_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirm_expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # A keyed hash of the client's address (for rate limits), never the address itself.
    address_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)

    campaign: Mapped[Campaign] = relationship()


class OutboxMessage(Base):
    """One email to deliver, written in the transaction that confirms its letter; `testimony worker` sends it.

    `idempotency_key` is unique per (campaign, supporter email, legislator email): a legislator gets one letter
    per supporter per campaign however often it is sent. `message_id` is derived from it, so a message sent
    again after a crash carries the same Message-ID and mail systems keep one copy.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id", ondelete="SET NULL"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="letter")  # "letter" or "confirmation"
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[str] = mapped_column(String(200))
    to_name: Mapped[str] = mapped_column(String(200), default="")
    to_email: Mapped[str] = mapped_column(String(320))
    from_name: Mapped[str] = mapped_column(String(200), default="")
    reply_to: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # one of OUTBOX_STATUSES
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    leased_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


# Background jobs (archive.worker.jobs). The table is the queue: workers claim its queued rows.
JOB_STATUSES = ("queued", "running", "done", "failed")


class Job(Base):
    """A piece of background work, e.g. transcribing a meeting's recordings.

    A running job holds a lease (`lease_token`, `lease_until`) that its worker renews as it goes (the heartbeat);
    a job whose lease has expired belonged to a worker that died, and the reaper puts it back in the queue.
    Only the holder of the current lease may record progress or finish the job.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_lease_until", "status", "lease_until"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "transcribe", "ingest" (an upload), "dumps" (after a ledger change)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"), index=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="queued")  # one of JOB_STATUSES
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    worker: Mapped[str | None] = mapped_column(String(200))  # host:pid of the lease holder, for people
    progress_done: Mapped[float] = mapped_column(Float, default=0.0)  # seconds of audio
    progress_total: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)  # in words a curator understands
    created_by: Mapped[str] = mapped_column(String(320), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    meeting: Mapped[Meeting | None] = relationship()


class JobChunk(Base):
    """One finished window of a transcription job, committed as soon as it is done: a resumed job skips it."""

    __tablename__ = "job_chunks"
    __table_args__ = (UniqueConstraint("job_id", "recording_id", "window", name="uq_job_chunks_job_recording_window"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    window: Mapped[int] = mapped_column(Integer)
    segments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


# Following by email (archive.follows): a search, a body or a speaker, confirmed by its mailbox before anything.
FOLLOW_KINDS = ("search", "body", "speaker")
FOLLOW_STATUSES = ("unconfirmed", "active", "unsubscribed")


class Follow(Base):
    """A mailbox following a search (`target` the query), a body (its slug) or a speaker (the person's id).

    Nothing is sent but the confirmation request until the mailbox confirms (double opt-in); then a daily digest
    of what is new since `since`. The confirmation and unsubscribe links are signed with the site's key, so no
    token is stored. `email_key` is the mailbox (case and +tag folded) for de-duplication and limits.
    """

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("email_key", "kind", "target", name="uq_follows_email_key_kind_target"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # one of FOLLOW_KINDS
    target: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(300))  # what the mails call it: the query, the body's or person's name
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320), index=True)
    status: Mapped[str] = mapped_column(String(12), default="unconfirmed", index=True)  # one of FOLLOW_STATUSES
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    since: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())  # the next digest tells what came after
    last_digest_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
