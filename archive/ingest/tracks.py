"""Simultaneous tracks of one meeting: a file per participant (`ingest A B C --tracks`) or a channel per microphone
(`ingest FILE --split-channels`), each transcribed and diarized on its own and merged into one timeline.

- Each track starts at the meeting's time 0, or at its own offset (`--offset B=1.5`): a line heard on it is
  placed at offset + its time on the track.
- A track's voices are found on that track alone (a room microphone may hold several people) and keep the
  track's name (Speaker.track): a hint for the curator, never a published name. Its words go to its voices only.
- Lines of different voices at the same time are all kept (overlapping, as people talk over one another).
- Cross-talk: one microphone hears the others, quieter. The same words on two tracks within about a second are
  kept once, from the track where they are loudest (`remove_bleed`), measured one decoded track at a time.
- A track is read from its decoded file a stretch at a time (archive.media.audio), its speech written to a
  file of its own: memory does not grow with the track's length.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.db.lookups import meeting_by_slug
from archive.db.models import Segment, Speaker
from archive.errors import InvalidInput
from archive.media.audio import SAMPLE_RATE, AudioSource, DecodedAudio, as_source
from archive.media.channels import split_channels
from archive.media.decode import decoded
from archive.media.store import MediaStore
from archive.transcribe.activity import speech_stretches
from archive.transcribe.transcript import Progress, Transcriber, Transcript
from archive.transcribe.windows import Checkpoint

if TYPE_CHECKING:  # the diarizer brings torch: imported where voices are made, not by every command
    from archive.speakers.diarize import Diarization

Report = Callable[[str], None]

SPEECH_GAP = 1.0  # seconds of silence between a track's stretches of speech, as Whisper hears them
ACTIVITY_SECONDS = 300.0  # voice activity is found this much of a track at a time
BLEED_SECONDS = 1.0  # the same word on two microphones, this close in time, is one word heard twice
BLEED_SHARE = 0.6  # a line is cross-talk when this share of its words was heard on another track at the time
MAX_OFFSET = 24 * 3600.0
_WORD = re.compile(r"[^\w']+")


@dataclass(frozen=True)
class Track:
    """A file to store as one track: where it is, its name (the file's, or "FILE channel 2"), and its start."""

    path: Path
    name: str
    offset: float = 0.0


def parse_offsets(values: Sequence[str]) -> dict[str, float]:
    """`NAME=SECONDS` pairs (`--offset B=1.5`): a track's start on the meeting's time."""
    offsets: dict[str, float] = {}
    for value in values:
        name, equals, seconds = value.rpartition("=")
        try:
            number = float(seconds)
        except ValueError:
            number = math.nan
        if not equals or not name or not math.isfinite(number) or not 0 <= number <= MAX_OFFSET:
            raise InvalidInput(f"--offset {value!r}: give TRACK=SECONDS, e.g. deputy.wav=1.5 (0 to {MAX_OFFSET:g} s)")
        offsets[name] = number
    return offsets


def file_tracks(files: Sequence[Path], offsets: Mapping[str, float]) -> list[Track]:
    """One track per file, named by its file name; an offset names a file as given, by name or by stem."""
    tracks = []
    used: set[str] = set()
    for path in files:
        keys = [str(path), path.name, path.stem]
        key = next((k for k in keys if k in offsets), None)
        if key is not None:
            used.add(key)
        tracks.append(Track(path, path.name, offsets[key] if key is not None else 0.0))
    unknown = sorted(set(offsets) - used)
    if unknown:
        raise InvalidInput(f"--offset {unknown[0]}: no track of that name (give a file's name)")
    if len({t.name for t in tracks}) < len(tracks):
        raise InvalidInput("--tracks: two tracks have the same file name; rename one so each can be told apart")
    return tracks


def channel_tracks(
    path: Path, folder: Path, settings: Settings, offsets: Mapping[str, float] | None = None, name: str = ""
) -> list[Track]:
    """One track per channel of `path`, written as lossless mono files into `folder` (a temporary folder), named
    after the file (or `name`, the name an upload was sent with)."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    channels = split_channels(
        path, folder, name=str(path), timeout=settings.decode_timeout, memory_mb=settings.decode_memory_mb
    )
    offsets = offsets or {}
    tracks = [Track(p, f"{name or path.name} channel {n}", 0.0) for n, p in enumerate(channels, start=1)]
    named = {str(n): t for n, t in enumerate(tracks, start=1)} | {t.name: t for t in tracks}
    for key in offsets:
        if key not in named:
            raise InvalidInput(f"--offset {key}: no channel of that name (give the channel's number, e.g. 2=1.5)")
    return [Track(t.path, t.name, offsets.get(t.name, offsets.get(str(n), 0.0))) for n, t in enumerate(tracks, 1)]


# --- transcription: the speech only ----------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A stretch of a track's speech: where it starts in the speech-only audio, on the track, and how long."""

    at: float
    start: float
    length: float


def speech_only(audio: AudioSource | np.ndarray, out: Path) -> tuple[DecodedAudio, list[Piece]]:
    """The track's stretches of speech (Silero voice activity, ACTIVITY_SECONDS at a time), written to `out` one
    after another with SPEECH_GAP seconds of silence between them: a personal track is mostly silence, and its
    words may fall anywhere, across a 30-second boundary of Whisper's own (a remark there lost its first words).
    The track is read, and the speech written, ACTIVITY_SECONDS at a time: memory stays flat on a long track."""
    audio = as_source(audio)
    spans: list[list[float]] = []
    step = int(ACTIVITY_SECONDS * SAMPLE_RATE)
    for first in range(0, audio.num_samples, step):
        for stretch in speech_stretches(audio.read(first, first + step)):
            start, end = first / SAMPLE_RATE + stretch.start, first / SAMPLE_RATE + stretch.end
            if spans and start - spans[-1][1] < SPEECH_GAP:
                spans[-1][1] = max(spans[-1][1], end)
            else:
                spans.append([start, end])
    gap = np.zeros(int(SPEECH_GAP * SAMPLE_RATE), dtype=np.float32).tobytes()
    pieces: list[Piece] = []
    written = 0  # samples
    with open(out, "wb") as sink:
        for start, end in spans:
            sink.write(gap)
            written += len(gap) // 4
            first, stop = int(start * SAMPLE_RATE), min(int(end * SAMPLE_RATE), audio.num_samples)
            pieces.append(Piece(round(written / SAMPLE_RATE, 3), start, max(stop - first, 0) / SAMPLE_RATE))
            for at in range(first, stop, step):
                samples = audio.read(at, min(at + step, stop))
                sink.write(samples.tobytes())
                written += len(samples)
        sink.write(gap)  # nothing said: this second of silence is what is transcribed
    return DecodedAudio(out), pieces


def on_track(t: float, pieces: Sequence[Piece]) -> float:
    """A time in the speech-only audio → the same moment on the track (silence between pieces: the nearer edge)."""
    before = [p for p in pieces if p.at <= t + 1e-6]
    if not before:
        return round(pieces[0].start, 3) if pieces else 0.0
    piece = before[-1]
    return round(piece.start + min(t - piece.at, piece.length), 3)


def transcribe_track(
    transcriber: Transcriber,
    audio: AudioSource | np.ndarray,
    on_progress: Progress | None,
    checkpoint: Checkpoint | None,
    glossary: Any = None,
) -> Transcript:
    """The track's speech transcribed on its own (speech_only), with every time put back on the track."""
    audio = as_source(audio)
    duration = audio.num_samples / SAMPLE_RATE
    with tempfile.TemporaryDirectory(prefix="testimony-speech-") as folder:
        speech, pieces = speech_only(audio, Path(folder) / "speech.f32")
        found = transcriber.transcribe(speech, on_progress=on_progress, checkpoint=checkpoint, glossary=glossary)

    def moved(t: float) -> float:
        return on_track(t, pieces)

    return dataclasses.replace(
        found,
        duration=round(duration, 3),
        segments=tuple(
            dataclasses.replace(
                s,
                start=moved(s.start),
                end=moved(s.end),
                words=tuple(dataclasses.replace(w, start=moved(w.start), end=moved(w.end)) for w in s.words),
            )
            for s in found.segments
            if pieces
        ),
        gaps=tuple(dataclasses.replace(g, start=moved(g.start), end=moved(g.end)) for g in found.gaps if pieces),
        parameters={**found.parameters, "speech_only": {"gap_seconds": SPEECH_GAP}},
    )


# --- cross-talk ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    id: int
    recording_id: int
    start: float
    end: float
    words: list[tuple[str, float]]  # normalised word, its middle (seconds, meeting time)


def _normalised(word: str) -> str:
    return _WORD.sub("", word.lower())


def _heard_elsewhere(line: _Line, others: Sequence[_Line]) -> bool:
    """Most of the line's words were also heard on the other lines' track within BLEED_SECONDS."""
    if not line.words:
        return False
    nearby = [(w, t) for other in others for w, t in other.words if line.start - 2 <= t <= line.end + 2]
    if not nearby:
        return False
    matched = sum(1 for w, t in line.words if w and any(w == v and abs(t - u) <= BLEED_SECONDS for v, u in nearby))
    if matched / len(line.words) >= BLEED_SHARE:
        return True
    # Words transcribed a little differently at low level: the texts still read alike.
    text = " ".join(w for w, _ in line.words)
    other = " ".join(w for w, t in nearby if line.start - BLEED_SECONDS <= t <= line.end + BLEED_SECONDS)
    return difflib.SequenceMatcher(None, text, other, autojunk=False).ratio() >= 0.8


def _level(audio: AudioSource, start: float, end: float) -> float:
    """The RMS level of [start, end] in dB (very quiet: -120)."""
    piece = audio.read(int(start * SAMPLE_RATE), int(end * SAMPLE_RATE))
    if not len(piece):
        return -120.0
    return 10 * math.log10(max(float(np.mean(np.square(piece, dtype=np.float64))), 1e-12))


def remove_bleed(sessions: sessionmaker[Session], settings: Settings, slug: str, report: Report) -> int:
    """Delete the machine's lines that are cross-talk: the same words on another track at the same time, louder
    there. Curators' lines are never touched. Returns how many lines were removed."""
    with sessions() as session:
        meeting = meeting_by_slug(session, slug)
        recordings = {r.id: (r.sha256, r.suffix, r.track or r.original_name, r.offset) for r in meeting.recordings}
        lines = [
            _Line(
                s.id,
                s.recording_id,
                s.start,
                s.end,
                [(_normalised(w["word"]), (w["start"] + w["end"]) / 2) for w in s.words or []],
            )
            for s in session.scalars(
                select(Segment)
                .where(Segment.meeting_id == meeting.id, Segment.source.is_(None))
                .order_by(Segment.start)
            )
        ]
    if len(recordings) < 2:
        return 0
    by_track: dict[int, list[_Line]] = {}
    for line in lines:
        by_track.setdefault(line.recording_id, []).append(line)
    # (line, the tracks that heard its words too), then each track's level at each such line, a track at a time.
    candidates = [
        (line, [other for other in by_track if other != line.recording_id and _heard_elsewhere(line, by_track[other])])
        for line in lines
    ]
    candidates = [(line, others) for line, others in candidates if others]
    if not candidates:
        return 0
    levels: dict[tuple[int, int], float] = {}  # (line id, recording id) → dB
    store = MediaStore(settings.media_dir)
    needed = {r for line, others in candidates for r in [line.recording_id, *others]}
    for recording_id in sorted(needed):
        sha256, suffix, name, offset = recordings[recording_id]
        with decoded(
            store.path_for(sha256, suffix),
            name=name,
            timeout=settings.decode_timeout,
            memory_mb=settings.decode_memory_mb,
        ) as (_, audio):
            for line, others in candidates:
                if recording_id in (line.recording_id, *others):
                    levels[line.id, recording_id] = _level(audio, line.start - offset, line.end - offset)
    quieter = [
        line.id
        for line, others in candidates
        if max(levels[line.id, other] for other in others) > levels[line.id, line.recording_id]
    ]
    if quieter:
        with sessions() as session, session.begin():
            session.execute(delete(Segment).where(Segment.id.in_(quieter)))
        report(f"{slug}: {len(quieter)} lines heard louder on another track removed as cross-talk")
    return len(quieter)


# --- voices --------------------------------------------------------------------------------------------------


def track_voices(each: Sequence[Diarization], offsets: Sequence[float]) -> tuple[Diarization, list[int]]:
    """The tracks' own voices as one meeting's, numbered by their first turn on the meeting's time, and for each
    voice the position of the track it was found on."""
    from archive.speakers.diarize import Diarization, Overlap, Turn

    voices: list[tuple[float, int, int]] = []  # (first turn, track, voice on the track)
    for position, (found, offset) in enumerate(zip(each, offsets, strict=True)):
        for index in range(len(found.voices)):
            first = min((t.start for t in found.turns[0] if t.speaker == index), default=math.inf)
            voices.append((first + offset, position, index))
    voices.sort()
    number = {(position, index): n for n, (_, position, index) in enumerate(voices)}
    return (
        Diarization(
            voices=[each[position].voices[index] for _, position, index in voices],
            turns=[
                [Turn(t.start, t.end, number[position, t.speaker]) for t in found.turns[0]]
                for position, found in enumerate(each)
            ],
            overlaps=[
                [Overlap(o.start, o.end, tuple(number[position, s] for s in o.speakers)) for o in found.overlaps[0]]
                for position, found in enumerate(each)
            ],
            model=each[0].model if each else Diarization([]).model,
        ),
        [position for _, position, _ in voices],
    )


def drop_silent_voices(session: Session, speakers: Sequence[Speaker]) -> dict[int, Speaker]:
    """Delete the voices no line was given to, and number the others again in order (SPEAKER_00…); returns
    the voices kept by their number before."""
    session.flush()
    talking = set(
        session.scalars(select(Segment.speaker_id).where(Segment.speaker_id.in_([s.id for s in speakers])).distinct())
    )
    kept = {index: s for index, s in enumerate(speakers) if s.id in talking}
    for speaker in speakers:
        if speaker.id not in talking:
            session.delete(speaker)
    session.flush()
    for speaker in kept.values():  # two steps: the labels are unique within the meeting
        speaker.label = f"TRACK_{speaker.id}"
    session.flush()
    for n, speaker in enumerate(kept.values()):
        speaker.label = f"SPEAKER_{n:02d}"
    session.flush()
    return kept


@contextmanager
def chosen_tracks(
    files: Sequence[Path],
    settings: Settings,
    *,
    tracks: bool,
    split: bool,
    offsets: Sequence[str] = (),
    name: str = "",
) -> Iterator[list[Track] | None]:
    """The tracks that `ingest --tracks` or `--split-channels` asked for (None: neither), valid while open."""
    if tracks and split:
        raise InvalidInput("--tracks and --split-channels: give one (several files, or one file's channels)")
    if offsets and not (tracks or split):
        raise InvalidInput("--offset places a track: it goes with --tracks or --split-channels")
    if split and len(files) != 1:
        raise InvalidInput(f"--split-channels takes one file (its channels are the tracks), not {len(files)}")
    if tracks and len(files) < 2:
        raise InvalidInput("--tracks takes two or more files, the meeting's simultaneous tracks")
    if not (tracks or split):
        yield None
        return
    if tracks:
        yield file_tracks(files, parse_offsets(offsets))
        return
    with tempfile.TemporaryDirectory(prefix="testimony-channels-") as folder:
        yield channel_tracks(files[0], Path(folder), settings, parse_offsets(offsets), name)
