"""The database tables: the source of truth for meetings, recordings, runs, segments, speakers and legislators."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from archive.db.types import UtcDateTime, utcnow

# Stable constraint names, so migrations can alter tables on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SEGMENT_KINDS = ("testimony", "deliberation", "remark", "procedural")

# How an attribution of a voice to a person was established. Attributions get disputed, so each one says.
ATTRIBUTION_METHODS = ("self-identified", "named-by-chair", "voice-match", "curator")
# What a person has agreed to. "public": named, and their voice print is kept and matched across meetings;
# "no-voice-match": named, but no voice print is kept and they are never matched automatically;
# "anonymous": never named on a public surface (their role stands in), and no voice print.
CONSENT_LEVELS = ("public", "no-voice-match", "anonymous")
# The legislature's chambers, as stored (an imported file's "lower"/"upper" become these).
CHAMBERS = ("house", "senate")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Body(Base):
    """A public body that meets, e.g. the Vermont Criminal Justice Council."""

    __tablename__ = "bodies"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    meetings: Mapped[list[Meeting]] = relationship(back_populates="body")


class Meeting(Base):
    """One sitting of a body, with one or more recordings played one after the other."""

    __tablename__ = "meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    place: Mapped[str | None] = mapped_column(String(300))
    source_url: Mapped[str | None] = mapped_column(String(2000))
    agenda_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # A person checked the transcript against the recording (see archive.curation.review); a new machine transcript
    # of any of the meeting's recordings clears both, so they never vouch for words nobody has read.
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    # Purged at a speaker's request (archive.privacy): recordings and segments are gone; the row is a tombstone.
    purged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    body: Mapped[Body] = relationship(back_populates="meetings")
    recordings: Mapped[list[Recording]] = relationship(back_populates="meeting", order_by="Recording.position")
    segments: Mapped[list[Segment]] = relationship(back_populates="meeting", order_by="(Segment.start, Segment.id)")
    speakers: Mapped[list[Speaker]] = relationship(back_populates="meeting", order_by="Speaker.label")

    @property
    def duration(self) -> float:
        return sum(r.duration for r in self.recordings)


class Recording(Base):
    """One media file, content-addressed by SHA-256; `offset` places it on the meeting's timeline."""

    __tablename__ = "recordings"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    offset: Mapped[float] = mapped_column(Float, default=0.0)
    suffix: Mapped[str] = mapped_column(String(16))
    original_name: Mapped[str] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(BigInteger)
    container: Mapped[str] = mapped_column(String(100))
    duration: Mapped[float] = mapped_column(Float)
    has_video: Mapped[bool] = mapped_column(default=False)
    streams: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="recordings")
    runs: Mapped[list[TranscriptionRun]] = relationship(back_populates="recording")


class TranscriptionRun(Base):
    """One engine × model pass over a recording; its machine transcript is a JSON file that never changes."""

    __tablename__ = "transcription_runs"
    __table_args__ = (UniqueConstraint("recording_id", "engine", "model", name="uq_run_recording_engine_model"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    engine: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200))
    engine_version: Mapped[str] = mapped_column(String(40))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    transcript_file: Mapped[str] = mapped_column(String(300))
    transcript_sha256: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    processing_seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    recording: Mapped[Recording] = relationship(back_populates="runs")


class Person(Base):
    """Someone who speaks in meetings: a council member, a testifier, an interpreter."""

    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    role: Mapped[str | None] = mapped_column(String(300))  # chair, member, public commenter, interpreter…
    affiliation: Mapped[str | None] = mapped_column(String(300))  # the seat held, e.g. "Vermont Police Association"
    consent: Mapped[str] = mapped_column(String(20), default="public")  # one of CONSENT_LEVELS
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    voice_print: Mapped[VoicePrint | None] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def public_name(self) -> str:
        """The name public pages show: an anonymous person is shown by role only."""
        if self.consent == "anonymous":
            return self.role or "Unnamed speaker"
        return self.name

    @property
    def voice_matching_allowed(self) -> bool:
        return self.consent == "public"

    def public_record(self, site_url: str = "") -> dict[str, Any]:
        """What the public may know of this person (pages, API, bulk dump): an anonymous person is their role."""
        anonymous = self.consent == "anonymous"
        return {
            "id": self.id,
            "name": self.public_name,
            "role": self.role,
            # Where someone works can name them as surely as their name does.
            "affiliation": None if anonymous else self.affiliation,
            "url": f"{site_url}/speakers/{self.id}",
        }


class Speaker(Base):
    """A voice in one meeting (a diarization label such as SPEAKER_00), attributed to a person or not yet.

    `embedding` is the voice's mean speaker embedding over clean speech (personal data: never public).
    The attribution columns hold the current attribution; `attributions` keeps every one ever made.
    """

    __tablename__ = "speakers"
    __table_args__ = (UniqueConstraint("meeting_id", "label", name="uq_speaker_meeting_label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    attribution: Mapped[str | None] = mapped_column(String(20))  # one of ATTRIBUTION_METHODS
    attribution_score: Mapped[float | None] = mapped_column(Float)  # the similarity, for a voice match
    attribution_note: Mapped[str | None] = mapped_column(Text)
    # A voice match below the assignment threshold is only suggested to a curator.
    suggested_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # What this voice agreed to in this meeting (one of SPEAKER_CONSENTS); the Redaction ledger says when and why.
    consent: Mapped[str] = mapped_column(String(20), default="public", server_default="public")
    suggestion_score: Mapped[float | None] = mapped_column(Float)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32 vector, see archive.speakers
    embedding_model: Mapped[str | None] = mapped_column(String(100))
    speech_seconds: Mapped[float] = mapped_column(Float, default=0.0)  # the clean speech the embedding saw
    # When this voice speaks, from diarization: [[start, end], …] in seconds on the meeting's timeline. Words
    # are assigned to speakers from these, so a re-transcription keeps every attribution.
    turns: Mapped[list[list[float]]] = mapped_column(JSON, default=list)

    meeting: Mapped[Meeting] = relationship(back_populates="speakers")
    person: Mapped[Person | None] = relationship(foreign_keys=[person_id])
    suggested_person: Mapped[Person | None] = relationship(foreign_keys=[suggested_person_id])

    @property
    def name(self) -> str | None:
        return self.person.public_name if self.person else None

    @property
    def role(self) -> str | None:
        return self.person.role if self.person else None


class Attribution(Base):
    """One attribution of a meeting's voice to a person (or its withdrawal), kept forever for disputes."""

    __tablename__ = "attributions"
    id: Mapped[int] = mapped_column(primary_key=True)
    speaker_id: Mapped[int] = mapped_column(ForeignKey("speakers.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    method: Mapped[str] = mapped_column(String(20))  # ATTRIBUTION_METHODS, or "withdrawn", "merged", "split"
    score: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    made_by: Mapped[str] = mapped_column(String(200), default="")  # "cli", "ingest", later a curator's name
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class VoicePrint(Base):
    """A person's voice: the mean embedding of the voices attributed to them by people (not by matching).

    Personal data: never shown or exported; deleted with the person; kept only for consent "public".
    """

    __tablename__ = "voice_prints"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), unique=True)
    model: Mapped[str] = mapped_column(String(100))
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    speech_seconds: Mapped[float] = mapped_column(Float)
    meetings: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship(back_populates="voice_print")


class Segment(Base):
    """A span of speech by one speaker. Times are seconds on the meeting's timeline."""

    __tablename__ = "segments"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("transcription_runs.id"), index=True)
    speaker_id: Mapped[int | None] = mapped_column(ForeignKey("speakers.id"), index=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    # [{"word": "You're", "start": 3721.4, "end": 3721.7, "probability": 0.93}, …]
    words: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(20))  # one of SEGMENT_KINDS once a curator says so
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    avg_logprob: Mapped[float | None] = mapped_column(Float)
    no_speech_prob: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # When a curator last corrected it (archive.curation; the Revision rows say how).
    revised_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # The text as published, after redactions ("" when the segment is withheld); None: the same as `text`.
    # PostgreSQL's search vector is built from it, so withheld words are not in the index (archive.privacy).
    public_text: Mapped[str | None] = mapped_column(Text)

    meeting: Mapped[Meeting] = relationship(back_populates="segments")
    speaker: Mapped[Speaker | None] = relationship()


class Excerpt(Base):
    """A citable span of a meeting chosen by an organizer: start and end fall on word boundaries.

    The quote is not stored: it is always the meeting's words between start and end, so a correction of the
    transcript shows in every excerpt of it. A verification records the SHA-256 of the quote the curator
    heard; it holds only while the quote is still exactly that (any later edit of those words clears it).
    """

    __tablename__ = "excerpts"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(16), unique=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    verified_by: Mapped[str | None] = mapped_column(String(200))
    verified_quote_sha256: Mapped[str | None] = mapped_column(String(64))
    # The random key of the form (or the API's Idempotency-Key) that made it: a form sent twice makes one excerpt.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    meeting: Mapped[Meeting] = relationship()


class Legislator(Base):
    """A member of the legislature, from an imported directory (see archive.legislators).

    `chamber` is "house" or "senate"; `source` is where the row came from (the Open States file, for Vermont).
    An import replaces every row, so nothing else may refer to a legislator by id across imports.
    """

    __tablename__ = "legislators"
    __table_args__ = (Index("ix_legislators_chamber_district", "chamber", "district"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    chamber: Mapped[str] = mapped_column(String(10))  # one of CHAMBERS
    district: Mapped[str] = mapped_column(String(100))
    party: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    openstates_id: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(500))
    imported_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class DistrictTown(Base):
    """A town (wholly or in part) in a chamber's district: a split town has a row for each of its districts."""

    __tablename__ = "district_towns"
    __table_args__ = (UniqueConstraint("chamber", "district", "town", name="uq_district_towns_chamber_district_town"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    chamber: Mapped[str] = mapped_column(String(10))
    district: Mapped[str] = mapped_column(String(100))
    town: Mapped[str] = mapped_column(String(200), index=True)


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
    (archive.limits). The key is a SHA-256 of what is counted, so the table holds no address or email."""

    __tablename__ = "rate_limits"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


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
    kind: Mapped[str] = mapped_column(String(20))  # "transcribe", "ingest" (an upload), "dumps" (bulk downloads)
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


# Curation (archive.curation): every correction is a revision; agenda items mark a meeting's chapters.
REVISION_ACTIONS = ("text", "split", "merge", "speaker", "kind", "tags", "agenda", "revert")


class Revision(Base):
    """One curator's change to a meeting's transcript, kept forever: who, when, what it was before and after.

    `before` and `after` hold the changed rows as JSON (a split: one segment before, two after; a merge: the
    reverse), so any revision can be shown and reverted. The machine transcript under transcripts/ is never edited.
    """

    __tablename__ = "revisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # one of REVISION_ACTIONS
    before: Mapped[Any] = mapped_column(JSON, default=dict)
    after: Mapped[Any] = mapped_column(JSON, default=dict)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320), default="")
    reverts_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class AgendaItem(Base):
    """A chapter of a meeting: an agenda item's title and the second it starts."""

    __tablename__ = "agenda_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    start: Mapped[float] = mapped_column(Float)
    title: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


# Consent and redaction (archive.privacy). A voice's consent in one meeting, as the speaker asked:
# "public"; "name-withheld" (shown as e.g. "Public commenter 3"); "voice-withheld" (their audio is silenced in
# every public copy and clip); "unpublished" (their segments are not published at all).
SPEAKER_CONSENTS = ("public", "name-withheld", "voice-withheld", "unpublished")
REDACTION_SCOPES = ("consent", "range", "phrase", "purge", "lift")


class Redaction(Base):
    """The append-only redaction ledger: what was withheld, over which span, why, asked for and approved by whom.

    Rows are never changed or deleted (a purge keeps its row as the meeting's tombstone); a "lift" row withdraws
    an earlier one (`lifts_id`). The public surfaces apply every redaction in force at once.
    """

    __tablename__ = "redactions"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"), index=True)
    speaker_id: Mapped[int | None] = mapped_column(ForeignKey("speakers.id", ondelete="SET NULL"))
    scope: Mapped[str] = mapped_column(String(10))  # one of REDACTION_SCOPES
    consent: Mapped[str | None] = mapped_column(String(20))  # scope "consent": one of SPEAKER_CONSENTS
    start: Mapped[float | None] = mapped_column(Float)  # scope "range": seconds on the meeting's timeline
    end: Mapped[float | None] = mapped_column(Float)
    phrase: Mapped[str | None] = mapped_column(Text)  # scope "phrase" (curators only: never published)
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(320), default="")
    approved_by: Mapped[str] = mapped_column(String(320), default="")
    lifts_id: Mapped[int | None] = mapped_column(ForeignKey("redactions.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class ContentVersion(Base):
    """One row: a number every write of public content adds one to (archive.db.version), the key of cached pages."""

    __tablename__ = "content_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger)
