"""Meetings, speakers and segments written straight to the database, for tests of later stages."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.db.models import Body, Meeting, Person, Recording, Segment, Speaker, TranscriptionRun
from archive.media.store import MediaStore


@dataclass
class Line:
    text: str
    start: float
    end: float
    speaker: str | None = None  # the speaker's name; a label is made for it, and a person (one per name)
    role: str | None = None
    kind: str | None = None
    tags: list[str] = field(default_factory=list)
    label_only: bool = False  # a diarized voice nobody has named yet: the label, no person
    language: str = "en"


def add_meeting(
    sessions: sessionmaker[Session],
    slug: str,
    lines: Sequence[Line],
    *,
    title: str = "Regular meeting",
    date: dt.date = dt.date(2024, 2, 7),
    body: str = "Vermont Criminal Justice Council",
) -> int:
    with sessions() as session, session.begin():
        body_row = session.scalar(select(Body).where(Body.name == body)) or Body(
            name=body, slug=body.lower().replace(" ", "-")
        )
        meeting = Meeting(slug=slug, body=body_row, title=title, date=date)
        digest = hashlib.sha256(slug.encode()).hexdigest()
        recording = Recording(
            meeting=meeting,
            sha256=digest,
            suffix=".wav",
            original_name=f"{slug}.wav",
            size=1,
            container="wav",
            duration=max((line.end for line in lines), default=0.0),
            streams=[],
        )
        run = TranscriptionRun(
            recording=recording,
            engine="whisper",
            model="tiny.en",
            engine_version="test",
            transcript_file=f"{digest}.json",
            transcript_sha256=digest,
        )
        session.add_all([meeting, recording, run])
        session.flush()
        speakers: dict[str, Speaker] = {}
        for line in lines:
            speaker = None
            if line.speaker:
                if line.speaker not in speakers:
                    person = None
                    if not line.label_only:
                        person = session.scalar(select(Person).where(Person.name == line.speaker)) or Person(
                            name=line.speaker, role=line.role
                        )
                    speakers[line.speaker] = Speaker(
                        meeting=meeting,
                        label=f"SPEAKER_{len(speakers):02d}",
                        person=person,
                        attribution="curator" if person else None,
                    )
                    session.add(speakers[line.speaker])
                    session.flush()
                speaker = speakers[line.speaker]
            words = [{"word": w, "start": line.start, "end": line.end, "probability": 0.9} for w in line.text.split()]
            session.add(
                Segment(
                    meeting_id=meeting.id,
                    recording_id=recording.id,
                    run_id=run.id,
                    speaker_id=speaker.id if speaker else None,
                    start=line.start,
                    end=line.end,
                    text=line.text,
                    words=words,
                    language=line.language,
                    kind=line.kind,
                    tags=list(line.tags),
                )
            )
        return meeting.id


def update_person(sessions: sessionmaker[Session], name: str, **values: object) -> int:
    """Set columns of the person add_meeting made for `name` (consent, affiliation, role…); their id."""
    with sessions() as session, session.begin():
        person = session.scalar(select(Person).where(Person.name == name))
        assert person is not None, f"no person named {name!r}"
        for column, value in values.items():
            setattr(person, column, value)
        return person.id


def timed(text: str, start: float, step: float = 0.5) -> list[dict[str, object]]:
    """Words of `text` a step apart from `start`, as a transcript times them."""
    return [
        {
            "word": w,
            "start": round(start + i * step, 3),
            "end": round(start + (i + 1) * step - 0.1, 3),
            "probability": 0.9,
        }
        for i, w in enumerate(text.split())
    ]


def add_meeting_with_files(sessions: sessionmaker[Session], settings: Settings, slug: str, text: str) -> None:
    """A meeting whose recording and machine transcript exist as files, hashed as ingest would."""
    add_meeting(sessions, slug, [Line(text, 0.0, 4.0, speaker=f"Testifier {slug}"), Line("Thank you.", 4.0, 5.0)])
    audio = f"RIFF fake audio of {slug} {uuid.uuid4()}".encode()
    sha = hashlib.sha256(audio).hexdigest()
    path = MediaStore(settings.media_dir).path_for(sha, ".wav")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(audio)
    transcript = json.dumps({"text": text}).encode()
    name = f"{sha}.whisper.tiny.en.json"
    settings.transcripts_dir.mkdir(parents=True, exist_ok=True)
    (settings.transcripts_dir / name).write_bytes(transcript)
    with sessions() as session, session.begin():
        recording = session.scalars(select(Recording).join(Meeting).where(Meeting.slug == slug)).one()
        recording.sha256, recording.size = sha, len(audio)
        run = session.scalars(select(TranscriptionRun).where(TranscriptionRun.recording_id == recording.id)).one()
        run.transcript_file, run.transcript_sha256 = name, hashlib.sha256(transcript).hexdigest()
