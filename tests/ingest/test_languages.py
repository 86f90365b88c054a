"""The pipeline's languages with a stand-in engine (the real ones: tests/cli/test_languages.py): a run's languages
are part of its key and file name, its gaps are stored on the meeting's timeline and counted, and a meeting
ingested without body, title or date gets them from the setting, the file name and the container."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from archive.config import Settings
from archive.db.models import Meeting, Segment, TranscriptionRun
from archive.ingest.pipeline import MeetingInfo, ingest, transcribe_meeting
from archive.publish.documents import meeting_document
from archive.transcribe.transcript import Gap, Transcript, TranscriptSegment, Word
from tests.factories.media import encode, speech


class StandIn:
    """An engine that "hears" Spanish only when told to expect it (as tiny.en cannot), and a gap otherwise."""

    engine, model = "faster-whisper", "base"

    def __init__(self, languages: tuple[str, ...]) -> None:
        self.languages = languages
        self.calls = 0

    def transcribe(self, audio: np.ndarray, **_: Any) -> Transcript:
        self.calls += 1
        spanish = "es" in self.languages
        segments = (
            (
                TranscriptSegment(
                    1.0,
                    4.0,
                    "Trabajo en una granja.",
                    (Word(" Trabajo", 1.0, 1.5, 0.9),),
                    -0.2,
                    0.01,
                    "es",
                    0.97,
                    "detected",
                ),
            )
            if spanish
            else ()
        )
        gaps = (
            () if spanish else (Gap(1.0, 4.0, "speech not transcribed — Spanish? re-run with --languages en,es", "es"),)
        )
        return Transcript(
            self.engine, self.model, "test", "es" if spanish else "en", 5.0, segments,
            parameters={"languages": list(self.languages)}, processing_seconds=0.1,
            languages=("es",) if spanish else (), gaps=gaps,
        )  # fmt: skip


def test_a_run_for_english_is_not_reused_for_english_and_spanish(sessions, settings: Settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = encode(speech(), tmp_path / "one.wav", "wav", "pcm_s16le")
    second = encode(speech()[::-1].copy(), tmp_path / "two.wav", "wav", "pcm_s16le")  # the meeting's second file
    info = MeetingInfo("Council", "Hearing", dt.date(2024, 3, 6))
    english = StandIn(("en",))
    said: list[str] = []
    result = ingest(sessions, settings, [first, second], info, load_transcriber=lambda: english, report=said.append)
    assert (result.transcribed, result.gaps) == (2, 2) and english.calls == 2
    assert "indexed 0 segments for search; 2 stretches of speech not transcribed (testimony check lists them)" in said
    with sessions() as session:
        document = meeting_document(session, result.slug)
        offset = session.scalars(select(Meeting)).one().recordings[1].offset  # the second file's start
    assert [(g["start"], g["end"], g["language"]) for g in document["gaps"]] == [
        (1.0, 4.0, "es"),
        (offset + 1.0, offset + 4.0, "es"),
    ]
    both = StandIn(("en", "es"))
    assert transcribe_meeting(sessions, settings, result.slug, both, replace=False) == 2  # not the English runs
    assert sorted(p.name.split(".", 1)[1] for p in settings.transcripts_dir.glob("*.json")) == [
        "faster-whisper.base.en-es.json",
        "faster-whisper.base.en-es.json",
        "faster-whisper.base.json",
        "faster-whisper.base.json",
    ]
    with sessions() as session:
        runs = session.scalars(select(TranscriptionRun).order_by(TranscriptionRun.id)).all()
        assert [run.languages for run in runs] == ["en", "en", "en,es", "en,es"]
        segment = session.scalars(select(Segment).order_by(Segment.start)).first()
        assert segment is not None
        assert (segment.language, segment.language_probability, segment.language_source) == ("es", 0.97, "detected")
        document = meeting_document(session, result.slug)
    assert document["gaps"] == [] and document["languages"] == ["es"]
    # The same languages again: reused, not transcribed.
    assert transcribe_meeting(sessions, settings, result.slug, StandIn(("en", "es")), replace=False) == 0


def test_a_meeting_without_body_title_or_date(sessions, settings: Settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    recorded = encode(
        speech(), tmp_path / "Council_hearing.m4a", "ipod", "aac", metadata={"creation_time": "2023-11-02T18:30:00Z"}
    )
    plain = encode(speech(), tmp_path / "no-date.wav", "wav", "pcm_s16le")
    said: list[str] = []
    blank = MeetingInfo(None, None, None)
    dated = ingest(sessions, settings, [recorded], blank, load_transcriber=None, report=said.append).slug
    today = ingest(sessions, settings, [plain], blank, load_transcriber=None, report=said.append).slug
    with sessions() as session:
        meetings = {m.slug: (m.body.name, m.title, m.date) for m in session.scalars(select(Meeting))}
    assert meetings[dated] == ("Unnamed body", "Council hearing", dt.date(2023, 11, 2))
    assert meetings[today] == ("Unnamed body", "no-date", dt.date.today())
    assert said[0] == (
        "chose body 'Unnamed body' (TESTIMONY_DEFAULT_BODY; give --body to name it); title 'Council hearing' (the"
        " file name; give --title); date 2023-11-02 (the recording's creation time; give --date)"
    )
