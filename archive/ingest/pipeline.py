"""Ingest, as plain stages: store → transcribe → save segments → diarize (the index follows each commit).

Order matters for consistency. Every file is staged and decoded in full before anything lands, so
a bad file leaves no trace; media lands before its database row, so a crash can leave at most a
complete, content-addressed file that the next ingest of the same bytes reuses; segments are
replaced in one transaction per recording; machine transcripts are written once and reused.
A meeting's speakers (and their turns) are replaced in one transaction, and only while no person
has attributed them; a re-transcription keeps them, because words are assigned from the stored turns.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slugify import slugify
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.db.lookups import meeting_by_slug, meeting_gaps
from archive.db.models import Body, Meeting, Overlap, Recording, Revision, Segment, Speaker, TranscriptionRun
from archive.errors import InvalidInput
from archive.ingest.interpretations import suggest_interpretations
from archive.ingest.mix import mix_meeting
from archive.ingest.tracks import Track, drop_silent_voices, remove_bleed, track_voices, transcribe_track
from archive.media.audio import AudioSource
from archive.media.decode import MediaInfo, decoded, probe
from archive.media.store import MediaStore, StagedFile, sha256_of, write_atomically
from archive.speakers.assign import assign_segments
from archive.speakers.voices import HUMAN_METHODS, to_bytes
from archive.timecodes import format_clock
from archive.transcribe.glossary import Glossary
from archive.transcribe.transcript import (
    Progress,
    Transcriber,
    Transcript,
    configured_languages,
    load_transcript,
    transcript_filename,
)
from archive.transcribe.windows import Checkpoint

if TYPE_CHECKING:  # the diarizer brings torch: the caller that diarizes loads it
    from archive.speakers.diarize import Diarizer

Report = Callable[[str], None]


@dataclass(frozen=True)
class MeetingInfo:
    """What people say about a meeting. Left out (None), the body is TESTIMONY_DEFAULT_BODY, the title the first
    file's name and the date its container's creation time, or today (ingest reports what it chose)."""

    body: str | None
    title: str | None
    date: dt.date | None
    source_url: str | None = None
    place: str | None = None
    agenda_url: str | None = None


@dataclass(frozen=True)
class IngestResult:
    slug: str
    new_recordings: int
    transcribed: int  # recordings transcribed in this run (not reused)
    speakers: int | None = None  # voices found by diarization in this run (None: not diarized now)
    gaps: int = 0  # stretches of speech heard and not transcribed, in the meeting's current transcripts


def ingest(
    sessions: sessionmaker[Session],
    settings: Settings,
    files: Sequence[Path],
    info: MeetingInfo,
    *,
    load_transcriber: Callable[[], Transcriber] | None,
    load_diarizer: Callable[[], Diarizer] | None = None,
    report: Report = lambda message: None,
    on_progress: Progress | None = None,
    tracks: Sequence[Track] | None = None,
    glossary: Glossary | None = None,
) -> IngestResult:
    """Store the files as one meeting's recordings (idempotent by hash), transcribe what is missing, and
    find the speakers of a meeting that has none yet. With `tracks` (then `files` is ignored), the recordings
    are simultaneous tracks of the meeting (archive.ingest.tracks), not parts played one after another.

    The models are loaded after the files proved decodable (a bad file fails fast) and before anything
    lands (a missing model leaves no meeting without a transcript behind).
    """
    if tracks is not None:
        files = [t.path for t in tracks]
    if not files:
        raise InvalidInput("no files given")
    store = MediaStore(settings.media_dir)
    staged = _stage_all(store, settings, files)
    try:
        transcriber = load_transcriber() if load_transcriber is not None else None
        diarizer = load_diarizer() if load_diarizer is not None and transcriber is not None else None
        slug, new = _store_recordings(
            sessions, store, staged, _completed(info, settings, staged, report), report, tracks
        )
    except BaseException:
        for item, _ in staged:
            store.discard(item)
        raise
    if tracks is not None:  # one recording of all the tracks, for the public player and clips
        mix_meeting(sessions, settings, slug, report)
    transcribed = 0
    if transcriber is not None:
        transcribed = transcribe_meeting(
            sessions,
            settings,
            slug,
            transcriber,
            replace=False,
            report=report,
            on_progress=on_progress,
            glossary=glossary,
        )
    speakers = None
    if diarizer is not None:
        speakers = diarize_meeting(sessions, settings, slug, diarizer, replace=False, report=report)
    return IngestResult(slug, new, transcribed, speakers, gap_count(sessions, slug))


def gap_count(sessions: sessionmaker[Session], slug: str) -> int:
    """How many stretches of speech the meeting's current runs heard and could not transcribe."""
    with sessions() as session:
        return len(meeting_gaps(session, meeting_by_slug(session, slug)))


def _stage_all(store: MediaStore, settings: Settings, files: Sequence[Path]) -> list[tuple[StagedFile, MediaInfo]]:
    staged: list[tuple[StagedFile, MediaInfo]] = []
    try:
        for path in files:
            if not path.is_file():
                raise InvalidInput(f"{path}: no such file")
            item = store.stage(path)
            try:
                media = probe(
                    item.path,
                    name=str(path),
                    timeout=settings.decode_timeout,
                    memory_mb=settings.decode_memory_mb,
                    max_duration=settings.max_duration,
                )
            except BaseException:
                store.discard(item)
                raise
            staged.append((item, media))
    except BaseException:
        for item, _ in staged:
            store.discard(item)
        raise
    return staged


def _completed(
    info: MeetingInfo, settings: Settings, staged: list[tuple[StagedFile, MediaInfo]], report: Report
) -> MeetingInfo:
    """The meeting's body, title and date, with defaults for what was not given."""
    chosen = []
    body, title, date = info.body, info.title, info.date
    if body is None:
        body = settings.default_body
        chosen.append(f"body {body!r} (TESTIMONY_DEFAULT_BODY; give --body to name it)")
    first, media = staged[0]
    if title is None:
        title = Path(first.original_name).stem.replace("_", " ").strip() or "Meeting"
        chosen.append(f"title {title!r} (the file name; give --title)")
    if date is None:
        created = _created_date(media.created)
        date = created or dt.date.today()
        where = "the recording's creation time" if created else "today: the recording does not say when it was made"
        chosen.append(f"date {date.isoformat()} ({where}; give --date)")
    if chosen:
        report("chose " + "; ".join(chosen))
    return dataclasses.replace(info, body=body, title=title, date=date)


def _created_date(created: str | None) -> dt.date | None:
    if not created:
        return None
    try:
        return dt.datetime.fromisoformat(created.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _store_recordings(
    sessions: sessionmaker[Session],
    store: MediaStore,
    staged: list[tuple[StagedFile, MediaInfo]],
    info: MeetingInfo,
    report: Report,
    tracks: Sequence[Track] | None = None,
) -> tuple[str, int]:
    with sessions() as session, session.begin():
        known = {
            r.sha256: r
            for r in session.scalars(select(Recording).where(Recording.sha256.in_([s.sha256 for s, _ in staged])))
        }
        meetings = {r.meeting.slug for r in known.values()}
        if known and (len(known) < len(staged) or len(meetings) > 1):
            raise InvalidInput(
                "some of these files are already in the archive as part of another meeting "
                f"({', '.join(sorted(meetings))}); ingest the new files on their own"
            )
        if known:
            for item, _ in staged:
                store.discard(item)
            slug = meetings.pop()
            report(f"already in the archive as meeting {slug}; nothing new stored")
            return slug, 0
        meeting = Meeting(
            slug=_unique_slug(session, info),
            body=_body(session, info.body or ""),
            title=info.title or "",
            date=info.date or dt.date.today(),
            source_url=info.source_url,
            agenda_url=info.agenda_url,
            place=info.place,
        )
        session.add(meeting)
        offset = 0.0
        for position, (item, media) in enumerate(staged):
            path = store.commit(item, media.suffix)
            track = tracks[position] if tracks is not None else None
            session.add(
                Recording(
                    meeting=meeting,
                    sha256=item.sha256,
                    position=position,
                    offset=track.offset if track is not None else offset,
                    track=track.name if track is not None else None,
                    suffix=media.suffix,
                    original_name=track.name if track is not None else item.original_name,
                    size=item.size,
                    container=media.container,
                    duration=media.duration,
                    has_video=media.has_video,
                    streams=media.streams,
                )
            )
            offset += media.duration
            where = path.relative_to(store.root.parent)
            name = track.name if track is not None else item.original_name
            report(f"stored {name} ({format_clock(media.duration)}, {media.container}) as {where}")
        return meeting.slug, len(staged)


def transcribe_meeting(
    sessions: sessionmaker[Session],
    settings: Settings,
    slug: str,
    transcriber: Transcriber,
    *,
    replace: bool = True,
    report: Report = lambda message: None,
    on_progress: Progress | None = None,
    checkpoint_for: Callable[[int], Checkpoint] | None = None,
    progress_for: Callable[[int], Progress] | None = None,
    glossary: Glossary | None = None,
) -> int:
    """Give every recording of the meeting segments from this engine and model; returns how many were transcribed.

    With `replace=False` (ingest), a recording already transcribed with this engine and model is left alone,
    so ingesting again never undoes anything; `testimony transcribe` rebuilds its segments. A background job
    passes `checkpoint_for` (a recording id → where its finished windows are kept) and `progress_for`.
    A `glossary` guides the model (archive.transcribe.glossary); its hash is part of the transcript's file name,
    so a transcript made with other guidance, or none, is not reused for it.
    """
    with sessions() as session:
        meeting = meeting_by_slug(session, slug)
        # Like diarization with named voices: a new transcript would replace the segments curators corrected.
        corrected = session.scalar(select(func.count(Revision.id)).where(Revision.meeting_id == meeting.id))
        if replace and corrected:
            raise InvalidInput(f"{slug} has {corrected} curator corrections; re-transcribing would discard them")
        recordings = [(r.id, r.sha256, r.suffix, r.original_name) for r in meeting.recordings]
        has_tracks = meeting.has_tracks
        transcribed_before = set(
            session.scalars(
                select(TranscriptionRun.recording_id).where(
                    TranscriptionRun.recording_id.in_([r[0] for r in recordings]),
                    TranscriptionRun.engine == transcriber.engine,
                    TranscriptionRun.model == transcriber.model,
                    TranscriptionRun.languages == ",".join(transcriber.languages),
                )
            )
        )
    store = MediaStore(settings.media_dir)
    done = 0
    said = ",".join(transcriber.languages)
    for recording_id, sha256, suffix, name in recordings:
        if not replace and recording_id in transcribed_before:
            report(f"{name}: already transcribed with {transcriber.engine} {transcriber.model} ({said})")
            continue
        guidance = glossary.sha256 if glossary is not None and glossary.terms else ""
        target = settings.transcripts_dir / transcript_filename(
            sha256, transcriber.engine, transcriber.model, transcriber.languages, guidance
        )
        if target.exists():
            transcript = load_transcript(target)
            report(f"{name}: reusing the machine transcript {target.name}")
        else:
            # A track is mostly silence: its speech alone is transcribed (archive.ingest.tracks).
            transcribe = transcribe_track if has_tracks else _whole
            with decoded(
                store.path_for(sha256, suffix),
                name=name,
                timeout=settings.decode_timeout,
                memory_mb=settings.decode_memory_mb,
            ) as (_, audio):  # on disk, read a window at a time (archive.media.audio)
                transcript = transcribe(
                    transcriber,
                    audio,
                    on_progress=progress_for(recording_id) if progress_for else on_progress,
                    checkpoint=checkpoint_for(recording_id) if checkpoint_for else None,
                    glossary=glossary if guidance else None,
                )
            write_atomically(target, transcript.to_json().encode("utf-8"))
            done += 1
            report(
                f"{name}: {len(transcript.segments)} segments in {transcript.processing_seconds:.1f} s "
                f"(real-time factor {transcript.processing_seconds / max(transcript.duration, 1e-9):.2f})"
                + (f"; languages: {', '.join(transcript.languages)}" if transcript.languages else "")
            )
            for check in transcript.checks:
                report(f"{name}: {check.note}")
        for gap in transcript.gaps:
            report(f"{name}: {format_clock(gap.start)}–{format_clock(gap.end)}: {gap.reason}")
        save_transcript(sessions, recording_id, transcript, target)
    if len(recordings) > 1 and has_tracks:
        remove_bleed(sessions, settings, slug, report)
    with sessions() as session:  # indexed as each transaction committed (archive.search.sync)
        count = session.scalar(select(func.count(Segment.id)).join(Meeting).where(Meeting.slug == slug))
    gaps = gap_count(sessions, slug)
    missing = f"; {gaps} stretch{'es' if gaps != 1 else ''} of speech not transcribed (testimony check lists them)"
    report(f"indexed {count} segments for search" + (missing if gaps else ""))
    return done


def _whole(
    transcriber: Transcriber,
    audio: AudioSource,
    on_progress: Progress | None,
    checkpoint: Checkpoint | None,
    glossary: Glossary | None = None,
) -> Transcript:
    return transcriber.transcribe(audio, on_progress=on_progress, checkpoint=checkpoint, glossary=glossary)


def save_transcript(sessions: sessionmaker[Session], recording_id: int, transcript: Transcript, path: Path) -> None:
    """Record the run and replace the recording's segments with the transcript's, in one transaction."""
    languages = ",".join(configured_languages(transcript))
    with sessions() as session, session.begin():
        recording = session.get_one(Recording, recording_id)
        offset = recording.offset
        run = session.scalar(
            select(TranscriptionRun).where(
                TranscriptionRun.recording_id == recording_id,
                TranscriptionRun.engine == transcript.engine,
                TranscriptionRun.model == transcript.model,
                TranscriptionRun.languages == languages,
            )
        )
        made = dict(
            engine_version=transcript.engine_version,
            parameters=run_parameters(transcript),
            transcript_file=path.name,
            transcript_sha256=sha256_of(path),
            language=transcript.language or None,
            languages=languages,
            gaps=[
                {
                    "start": round(g.start + offset, 3),
                    "end": round(g.end + offset, 3),
                    "reason": g.reason,
                    "language": g.language,
                }
                for g in transcript.gaps
            ],
            processing_seconds=transcript.processing_seconds,
        )
        if run is None:
            run = TranscriptionRun(recording=recording, engine=transcript.engine, model=transcript.model, **made)
            session.add(run)
        else:  # the same engine and model again, with other guidance: the run says how the segments were made
            for key, value in made.items():
                setattr(run, key, value)
        session.flush()
        session.execute(delete(Segment).where(Segment.recording_id == recording_id))
        session.flush()
        # A new machine transcript is unreviewed: a person's review vouched for the segments just deleted.
        recording.meeting.reviewed_at = None
        recording.meeting.reviewed_by = None
        session.add_all(
            Segment(
                meeting_id=recording.meeting_id,
                recording_id=recording_id,
                run_id=run.id,
                start=round(s.start + offset, 3),
                end=round(s.end + offset, 3),
                text=s.text,
                words=[
                    {
                        "word": w.word,
                        "start": round(w.start + offset, 3),
                        "end": round(w.end + offset, 3),
                        "probability": w.probability,
                    }
                    for w in s.words
                ],
                language=s.language or None,
                language_probability=s.language_probability,
                language_source=s.language_source or None,
                tags=[],
                avg_logprob=s.avg_logprob,
                no_speech_prob=s.no_speech_prob,
            )
            for s in transcript.segments
        )
        session.flush()
        assign_segments(session, recording.meeting_id)  # the meeting's speakers, if diarized, keep their words
        suggest_interpretations(session, recording.meeting_id)


def run_parameters(transcript: Transcript) -> dict[str, Any]:
    """What a run records: the engine's parameters, and for a guided transcript the glossary, the exact prompt or
    hotwords of each window and the guard's checks (shown on the transcript's details in the admin)."""
    if not transcript.guidance and not transcript.checks:
        return dict(transcript.parameters)
    checks = [asdict(c) | {"note": c.note} for c in transcript.checks]
    return transcript.parameters | {"guidance": transcript.guidance, "checks": checks}


def diarize_meeting(
    sessions: sessionmaker[Session],
    settings: Settings,
    slug: str,
    diarizer: Diarizer,
    *,
    replace: bool = True,
    report: Report = lambda message: None,
) -> int | None:
    """Find who speaks when across the meeting's recordings, attribute every segment, match known voices.

    Returns the number of speakers found, or None when the meeting already had speakers and `replace` is
    False (ingest never redoes it). Replacing speakers that a person has attributed is refused: it would
    throw away their judgement.
    """
    from archive.speakers.people import apply_voice_matches

    with sessions() as session:
        meeting = meeting_by_slug(session, slug)
        existing = session.scalars(select(Speaker).where(Speaker.meeting_id == meeting.id)).all()
        named = sorted(s.label for s in existing if s.attribution in HUMAN_METHODS)
        recordings = [(r.sha256, r.suffix, r.original_name, r.offset, r.track) for r in meeting.recordings]
        tracks = meeting.has_tracks
    if existing and not replace:
        report(f"{slug}: speakers already found ({len(existing)}); kept")
        return None
    if named:
        raise InvalidInput(
            f"{slug}: speakers {', '.join(named)} were identified by a person; diarizing again would discard "
            "that (merge or split speakers instead: testimony speakers --help)"
        )
    store = MediaStore(settings.media_dir)
    found = []
    each = []  # a meeting of tracks: each track's own voices
    working = 0.0  # seconds spent diarizing, decoding excluded (it is the transcriber's cost too)
    for sha256, suffix, name, _, _ in recordings:
        with decoded(
            store.path_for(sha256, suffix),
            name=name,
            timeout=settings.decode_timeout,
            memory_mb=settings.decode_memory_mb,
        ) as (_, audio):
            started = time.perf_counter()
            found.append(diarizer.local_speakers(audio))
        if tracks:  # voices found on one track alone (a room microphone may hold several)
            each.append(diarizer.cluster([found[-1]]))
        working += time.perf_counter() - started
    started = time.perf_counter()
    if tracks:
        diarization, voice_track = track_voices(each, [r[3] for r in recordings])
    else:
        diarization, voice_track = diarizer.cluster(found), []
    working += time.perf_counter() - started
    with sessions() as session, session.begin():
        meeting = meeting_by_slug(session, slug)
        session.execute(update(Segment).where(Segment.meeting_id == meeting.id).values(speaker_id=None))
        session.execute(delete(Speaker).where(Speaker.meeting_id == meeting.id))
        session.execute(delete(Overlap).where(Overlap.meeting_id == meeting.id))
        session.flush()
        speakers = [
            Speaker(
                meeting_id=meeting.id,
                label=f"SPEAKER_{index:02d}",
                embedding=to_bytes(voice.embedding),
                embedding_model=diarization.model,
                speech_seconds=voice.speech_seconds,
                turns=[],
                track=recordings[voice_track[index]][4] if tracks else None,
            )
            for index, voice in enumerate(diarization.voices)
        ]
        for (_, _, _, offset, _), turns in zip(recordings, diarization.turns, strict=True):
            for turn in turns:
                speakers[turn.speaker].turns.append([round(turn.start + offset, 3), round(turn.end + offset, 3)])
        session.add_all(speakers)
        session.flush()
        split = assign_segments(session, meeting.id)
        # A track's voice left without words is another track's speech heard through its microphone.
        kept = drop_silent_voices(session, speakers) if tracks else dict(enumerate(speakers))
        for recording, (_, _, _, offset, _), overlaps in zip(
            meeting.recordings, recordings, diarization.overlaps, strict=True
        ):
            for overlap in overlaps:
                voices = [kept[i].label for i in overlap.speakers if i in kept]
                if len(voices) >= 2:
                    session.add(
                        Overlap(
                            meeting_id=meeting.id,
                            recording_id=recording.id,
                            start=round(overlap.start + offset, 3),
                            end=round(overlap.end + offset, 3),
                            voices=voices,
                        )
                    )
        session.flush()
        matches = apply_voice_matches(session, meeting)
        speakers = list(kept.values())
        interpreted = suggest_interpretations(session, meeting.id)
    total = sum(r.num_samples for r in found) / 16000
    report(
        f"{slug}: {len(speakers)} speakers in {working:.1f} s"
        f" (real-time factor {working / max(total, 1e-9):.3f}); {split} segments split at a"
        " change of speaker"
    )
    if interpreted:
        report(f"{slug}: {interpreted} turn(s) look like an interpretation of the turn before (suggested to curators)")
    for match in matches:  # only ever suggestions: nothing public changes until a curator confirms one
        report(
            f"{slug}: {match.label} may be {match.person} (voice similarity {match.score:.2f}):"
            " a suggestion until a curator confirms it"
        )
    return len(speakers)


def _body(session: Session, name: str) -> Body:
    name = name.strip()
    if not name:
        raise InvalidInput("--body must not be empty")
    body = session.scalar(select(Body).where(Body.name == name))
    if body is None:
        body = Body(name=name, slug=slugify(name, max_length=100) or "body")
        session.add(body)
    return body


def _unique_slug(session: Session, info: MeetingInfo) -> str:
    if not (info.title or "").strip() or info.date is None:
        raise InvalidInput("--title must not be empty")
    base = f"{info.date.isoformat()}-{slugify(info.title or '', max_length=80, word_boundary=True) or 'meeting'}"
    slug, n = base, 1
    while session.scalar(select(Meeting.id).where(Meeting.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug
