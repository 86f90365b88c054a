"""The database tables: the source of truth for meetings, recordings, runs, segments and speakers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so migrations can alter tables on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SEGMENT_KINDS = ("testimony", "deliberation", "remark", "procedural")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

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
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

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
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

    recording: Mapped[Recording] = relationship(back_populates="runs")


class Speaker(Base):
    """A voice in one meeting (a diarization label such as SPEAKER_00), optionally named."""

    __tablename__ = "speakers"
    __table_args__ = (UniqueConstraint("meeting_id", "label", name="uq_speaker_meeting_label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(300))
    role: Mapped[str | None] = mapped_column(String(300))

    meeting: Mapped[Meeting] = relationship(back_populates="speakers")


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
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

    meeting: Mapped[Meeting] = relationship(back_populates="segments")
    speaker: Mapped[Speaker | None] = relationship()
