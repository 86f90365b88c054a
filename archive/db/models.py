"""The database tables: the source of truth for meetings, recordings, runs, segments, speakers and legislators.

The tables of operation (accounts, campaigns, mail, jobs) live in archive.db.operational and are importable from
here too: importing this module registers every table, which foreign keys between the two need."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db.base import Base
from archive.db.operational import (
    CAMPAIGN_STATUSES,
    CAMPAIGN_TARGETS,
    FOLLOW_KINDS,
    FOLLOW_STATUSES,
    JOB_STATUSES,
    LETTER_STATUSES,
    OUTBOX_STATUSES,
    ROLES,
    AuditEvent,
    Campaign,
    CampaignExcerpt,
    CampaignOrganizer,
    Follow,
    Job,
    JobChunk,
    Letter,
    OutboxMessage,
    RateLimit,
    User,
    UserSession,
)
from archive.db.types import UtcDateTime, utcnow

SEGMENT_KINDS = ("testimony", "deliberation", "remark", "procedural")
SOURCE_CURATOR = "curator"  # a line a curator transcribed from the recording (archive.curation.overlaps)
# An interpretation link is a machine's suggestion until a curator confirms it.
INTERPRETATION_STATUSES = ("suggested", "confirmed")

# How an attribution of a voice to a person was established. Attributions get disputed, so each one says.
ATTRIBUTION_METHODS = ("self-identified", "named-by-chair", "voice-match", "curator")
# What a person has agreed to. "public": named, and their voice print is kept and matched across meetings;
# "no-voice-match": named, but no voice print is kept and they are never matched automatically;
# "anonymous": never named on a public surface (their role stands in), and no voice print.
CONSENT_LEVELS = ("public", "no-voice-match", "anonymous")
# The legislature's chambers, as stored (an imported file's "lower"/"upper" become these).
CHAMBERS = ("house", "senate")


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
    # Its recordings: parts played one after another, or simultaneous tracks; never the tracks' mixdown (`mix`).
    recordings: Mapped[list[Recording]] = relationship(
        back_populates="meeting",
        primaryjoin="and_(Meeting.id == Recording.meeting_id, Recording.mix.is_(False))",
        order_by="Recording.position",
    )
    # The tracks summed into one recording (archive.media.mixdown): what the public plays and clips.
    mix: Mapped[Recording | None] = relationship(
        primaryjoin="and_(Meeting.id == Recording.meeting_id, Recording.mix.is_(True))", viewonly=True
    )
    segments: Mapped[list[Segment]] = relationship(back_populates="meeting", order_by="(Segment.start, Segment.id)")
    speakers: Mapped[list[Speaker]] = relationship(back_populates="meeting", order_by="Speaker.label")

    @property
    def duration(self) -> float:
        """Where its last recording ends: recordings one after another add up, simultaneous tracks do not."""
        return max((r.offset + r.duration for r in self.recordings), default=0.0)

    @property
    def has_tracks(self) -> bool:
        """Its recordings are simultaneous tracks (archive.ingest.tracks), not parts played one after another."""
        return any(r.track is not None for r in self.recordings)

    @property
    def played(self) -> list[Recording]:
        """The recordings the public player plays: the tracks' mix where there is one, else every recording."""
        return [self.mix] if self.mix is not None else list(self.recordings)


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
    # One of the meeting's simultaneous tracks, by the file's or channel's name (None: a part of the meeting,
    # played after the one before). A track's `offset` is its own start on the meeting's time.
    track: Mapped[str | None] = mapped_column(String(300))
    # The mixdown of the meeting's tracks (one per meeting of tracks): played and clipped, never transcribed.
    mix: Mapped[bool] = mapped_column(default=False, server_default=false())

    meeting: Mapped[Meeting] = relationship(back_populates="recordings")
    runs: Mapped[list[TranscriptionRun]] = relationship(back_populates="recording")


class TranscriptionRun(Base):
    """One engine × model pass over a recording; its machine transcript is a JSON file that never changes."""

    __tablename__ = "transcription_runs"
    __table_args__ = (
        UniqueConstraint(
            "recording_id", "engine", "model", "languages", name="uq_run_recording_engine_model_languages"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    engine: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200))
    # The languages the run was told to expect, comma-separated ("en,es"): a run for English alone is not reused
    # for English and Spanish. The transcript's spoken languages are its segments'.
    languages: Mapped[str] = mapped_column(String(200), default="en", server_default="en")
    # Speech the run heard and could not transcribe: [{"start", "end", "reason", "language"}] on the meeting's
    # timeline (archive.transcribe.gaps).
    gaps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
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
    __table_args__ = (
        UniqueConstraint("meeting_id", "label", name="uq_speaker_meeting_label"),
        # Nothing about a person goes public on a machine's guess: a voice match is only ever a suggestion
        # (suggested_person_id), and the database refuses an attribution made by one (migration 0014).
        CheckConstraint("attribution IS NULL OR attribution <> 'voice-match'", name="confirmed_attribution"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    attribution: Mapped[str | None] = mapped_column(String(20))  # one of ATTRIBUTION_METHODS
    attribution_score: Mapped[float | None] = mapped_column(Float)  # the similarity, for a voice match
    attribution_note: Mapped[str | None] = mapped_column(Text)
    # A voice match is only suggested to a curator, who confirms it (an attribution) or rejects it.
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
    # The track this voice was found on (Recording.track), in a meeting of simultaneous tracks: its words are
    # that track's only. Shown to curators as a hint of who it is; never published as a name.
    track: Mapped[str | None] = mapped_column(String(300))

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
    language: Mapped[str | None] = mapped_column(String(16))  # ISO 639-1
    language_probability: Mapped[float | None] = mapped_column(Float)  # among the run's languages
    language_source: Mapped[str | None] = mapped_column(String(20))  # configured, detected, neighbour or curator
    kind: Mapped[str | None] = mapped_column(String(20))  # one of SEGMENT_KINDS
    # True while the kind is the archive's suggestion from the speaker's role and the agenda (archive.speakers.kinds),
    # shown as "suggested"; a curator's choice sets it False and is never overwritten.
    kind_suggested: Mapped[bool] = mapped_column(default=False, server_default=false())
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    avg_logprob: Mapped[float | None] = mapped_column(Float)
    no_speech_prob: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # When a curator last corrected it (archive.curation; the Revision rows say how).
    revised_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # The text as published, after redactions ("" when the segment is withheld); None: the same as `text`.
    # PostgreSQL's search vector is built from it, so withheld words are not in the index (archive.privacy).
    public_text: Mapped[str | None] = mapped_column(Text)
    # Where the words came from: None, the machine's transcript; SOURCE_CURATOR, a person listening to the recording.
    source: Mapped[str | None] = mapped_column(String(40))

    meeting: Mapped[Meeting] = relationship(back_populates="segments")
    speaker: Mapped[Speaker | None] = relationship()


class Overlap(Base):
    """A stretch of a mixed recording where diarization heard two or more voices at once, for a curator to
    listen to (the quieter voice is often missing from the machine's transcript). Times on the meeting's timeline;
    `voices` are speaker labels of the meeting as diarization found them."""

    __tablename__ = "overlaps"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id", ondelete="SET NULL"))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    voices: Mapped[list[str]] = mapped_column(JSON, default=list)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    reviewed_by: Mapped[str | None] = mapped_column(String(200))

    meeting: Mapped[Meeting] = relationship()


class Interpretation(Base):
    """A segment that interprets another (an interpreter repeating testimony in English): one row per source.

    Suggested by the machine (a turn in another language by another voice right after the source) or made by a
    curator; a suggestion is never shown as fact until a curator confirms it (archive.curation.interpretations).
    """

    __tablename__ = "interpretations"
    __table_args__ = (UniqueConstraint("segment_id", "source_id", name="uq_interpretation_segment_source"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="suggested")  # one of INTERPRETATION_STATUSES
    made_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    segment: Mapped[Segment] = relationship(foreign_keys=[segment_id])
    source: Mapped[Segment] = relationship(foreign_keys=[source_id])


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


# Curation (archive.curation): every correction is a revision; agenda items mark a meeting's chapters.
REVISION_ACTIONS = ("text", "split", "merge", "speaker", "kind", "tags", "agenda", "interpretation", "revert")


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


class VocabularyTerm(Base):
    """A term of a body's vocabulary (a name, a place, an agency), kept by curators, with an optional note; the
    terms guide the transcription of the body's meetings (archive.curation.vocabulary), in `position` order."""

    __tablename__ = "vocabulary_terms"
    __table_args__ = (UniqueConstraint("body_id", "term", name="uq_vocabulary_terms_body_term"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"), index=True)
    term: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
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


# Every table and its constants, the operational ones included (see the docstring).
__all__ = [
    "ATTRIBUTION_METHODS",
    "AgendaItem",
    "Attribution",
    "AuditEvent",
    "Base",
    "Body",
    "CAMPAIGN_STATUSES",
    "CAMPAIGN_TARGETS",
    "CHAMBERS",
    "CONSENT_LEVELS",
    "Campaign",
    "CampaignExcerpt",
    "CampaignOrganizer",
    "ContentVersion",
    "DistrictTown",
    "Excerpt",
    "FOLLOW_KINDS",
    "FOLLOW_STATUSES",
    "Follow",
    "JOB_STATUSES",
    "Job",
    "JobChunk",
    "LETTER_STATUSES",
    "INTERPRETATION_STATUSES",
    "Interpretation",
    "Legislator",
    "Letter",
    "Meeting",
    "OUTBOX_STATUSES",
    "OutboxMessage",
    "Person",
    "REDACTION_SCOPES",
    "REVISION_ACTIONS",
    "ROLES",
    "RateLimit",
    "Recording",
    "Redaction",
    "Revision",
    "SEGMENT_KINDS",
    "SPEAKER_CONSENTS",
    "Segment",
    "Speaker",
    "TranscriptionRun",
    "User",
    "UserSession",
    "VoicePrint",
]
