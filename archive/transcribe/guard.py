"""The guard against dropped speech: a guided pass that leaves speech without words is checked against an
unguided one.

A glossary helps a model that can use it and can make another skip whole stretches of speech (issue 24:
tiny.en with a 9-term prompt wrote nothing for a testimony it transcribed alone). After a guided pass over a
window, every hole (speech that voice activity found and no word covers, archive.transcribe.gaps.holes) is
widened to the stretches of speech it touches, and that span is transcribed again without any prompt. The pass
whose words cover clearly more of the span's speech (MARGIN_SECONDS and CLEAR_SHARE of it) keeps the span; either
way the check is recorded with the transcript (a Check), so a reader can see where the glossary was set aside.
Where the guided pass keeps the span, the unguided pass's words fill its holes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from archive.transcribe import gaps
from archive.transcribe.activity import Stretch
from archive.transcribe.transcript import Check, TranscriptSegment

# An unguided pass must cover this many more seconds of speech to replace the guided one: word timings move
# by a few tenths of a second between passes, and a tie goes to the glossary, which spells names better.
MARGIN_SECONDS = 0.5
# ... and a tenth of the span's speech: on the board's opening, whisper tiny.en's guided pass covered 15.0 of 16.1 s
# and spelled Vergennes right; the unguided one covered all of it as "Virgin". The hole itself is not lost.
CLEAR_SHARE = 0.1

# Transcribes a span of the window without guidance; segments on the window's timeline.
Redo = Callable[[Stretch], list[TranscriptSegment]]


def guarded(
    stretches: list[Stretch], segments: list[TranscriptSegment], redo: Redo
) -> tuple[list[TranscriptSegment], list[Check]]:
    """The window's segments with each span the guided pass left without words settled by an unguided pass, and
    the checks made (times on the window's timeline)."""
    checks: list[Check] = []
    for span in suspect_spans(stretches, segments):
        speech = [s for s in stretches if s.end > span.start and s.start < span.end]
        inside = [part for s in segments if (part := _part(s, span, True))]
        again = [part for s in redo(span) if s.text.strip() and (part := _part(s, span, True))]
        guided, unguided = covered_seconds(speech, inside), covered_seconds(speech, again)
        clearly = max(MARGIN_SECONDS, CLEAR_SHARE * sum(s.duration for s in speech))
        kept = "unguided" if unguided >= guided + clearly else "guided"
        if kept == "unguided":  # a segment across the span's edge keeps its words outside it, once
            outside = [part for s in segments if (part := _part(s, span, False))]
            segments = sorted(outside + again, key=lambda s: (s.start, s.end))
        elif fill := [part for h in gaps.holes(speech, inside) for s in again if (part := _part(s, h, True))]:
            kept = "both"  # the guided words, and the unguided pass's where the guided one wrote nothing
            segments = sorted(segments + fill, key=lambda s: (s.start, s.end))
        checks.append(
            Check(
                start=round(span.start, 3),
                end=round(span.end, 3),
                speech_seconds=round(sum(s.duration for s in speech), 3),
                guided_seconds=round(guided, 3),
                unguided_seconds=round(unguided, 3),
                kept=kept,
            )
        )
    return segments, checks


def _part(segment: TranscriptSegment, span: Stretch, inside: bool) -> TranscriptSegment | None:
    """The words of a segment whose middle is inside (or outside) the span, as a segment; None if none are."""
    if not segment.words:
        middle = (segment.start + segment.end) / 2
        return segment if (span.start <= middle < span.end) == inside else None
    words = tuple(w for w in segment.words if (span.start <= (w.start + w.end) / 2 < span.end) == inside)
    if len(words) == len(segment.words):
        return segment
    if not words:
        return None
    text = " ".join(w.word.strip() for w in words)
    return replace(segment, start=words[0].start, end=words[-1].end, text=text, words=words)


def suspect_spans(stretches: list[Stretch], segments: list[TranscriptSegment]) -> list[Stretch]:
    """The holes of a pass, each widened to the whole stretches of speech it touches, overlapping ones merged."""
    spans: list[Stretch] = []
    for hole in gaps.holes(stretches, segments):
        touched = [s for s in stretches if s.end > hole.start and s.start < hole.end]
        span = Stretch(min(s.start for s in touched), max(s.end for s in touched)) if touched else hole
        if spans and span.start <= spans[-1].end:
            spans[-1] = Stretch(spans[-1].start, max(spans[-1].end, span.end))
        else:
            spans.append(span)
    return spans


def covered_seconds(speech: list[Stretch], segments: list[TranscriptSegment]) -> float:
    """Seconds of the speech that words cover (each word widened by gaps.WORD_SLACK, as for holes)."""
    covered = sorted((w.start - gaps.WORD_SLACK, w.end + gaps.WORD_SLACK) for s in segments for w in (s.words or [s]))
    merged: list[list[float]] = []
    for start, end in covered:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return sum(
        max(0.0, min(stretch.end, end) - max(stretch.start, start)) for stretch in speech for start, end in merged
    )
