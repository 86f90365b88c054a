"""The bundled demo meeting (this folder: the recording, its script and truth files, and make_demo.py that builds
them), and the curator's step done for it: each voice named after the script's speaker."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.db.lookups import meeting_by_slug
from archive.db.models import Segment, Speaker
from archive.speakers.people import name_speaker
from archive.transcribe.evaluate import normalize

DEMO_DIR = Path(__file__).resolve().parent
RECORDING = DEMO_DIR / "demo-meeting.ogg"


def meeting_details() -> dict[str, str]:
    """The demo meeting's body, title, date and source, as meeting.json records them."""
    details: dict[str, str] = json.loads((DEMO_DIR / "meeting.json").read_text(encoding="utf-8"))
    return details


def name_demo_voices(sessions: sessionmaker[Session], slug: str, report: Callable[[str], None]) -> None:
    """The curator's step, done for the demo: each voice is named after the script's speaker whose words it
    says most (script.json records who says what). A voice already named is left alone."""
    script = json.loads((DEMO_DIR / "script.json").read_text(encoding="utf-8"))
    people: dict[str, tuple[str, str, set[str]]] = {}
    for turn in script:
        name, role, words = people.get(turn["speaker"], (turn["name"], turn["role"], set()))
        people[turn["speaker"]] = (name, role, words | set(normalize(turn["text"]).split()))
    named = []
    with sessions() as session, session.begin():
        meeting = meeting_by_slug(session, slug)
        for voice in session.scalars(
            select(Speaker).where(Speaker.meeting_id == meeting.id, Speaker.attribution.is_(None))
        ):
            texts = session.scalars(select(Segment.text).where(Segment.speaker_id == voice.id))
            said = set(normalize(" ".join(texts)).split())
            name, role, _ = max(people.values(), key=lambda person: len(said & person[2]))
            note = "the demo's script (script.json) says who speaks"
            name_speaker(session, slug, voice.label, name, role=role, note=note, made_by="demo")
            named.append(f"{voice.label} {name}")
    if named:
        report(f"named the voices as a curator would: {', '.join(named)}")
