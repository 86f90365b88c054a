"""The guard against dropped speech: a guided pass that leaves speech without words is checked against an
unguided one.

A glossary helps a model that can use it and can make another skip whole stretches of speech (issue 24:
tiny.en with a 9-term prompt wrote nothing for a testimony it transcribed alone). After a guided pass over a
window, every hole (speech that voice activity found and no word covers, archive.transcribe.gaps.holes) is
widened to the stretches of speech it touches, and that span is transcribed again without any prompt. The pass
whose words cover more of the span's speech, by at least MARGIN_SECONDS, keeps the span; either way the check
is recorded with the transcript (a Check), so a reader can see where the glossary was set aside.
"""

from __future__ import annotations

from collections.abc import Callable

from archive.transcribe import gaps
from archive.transcribe.activity import Stretch
from archive.transcribe.transcript import Check, TranscriptSegment

# An unguided pass must cover this many more seconds of speech to replace the guided one: word timings move
# by a few tenths of a second between passes, and a tie goes to the glossary, which spells names better.
MARGIN_SECONDS = 0.5

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
        inside = [s for s in segments if span.start <= (s.start + s.end) / 2 < span.end]
        again = [s for s in redo(span) if s.text.strip()]
        guided, unguided = covered_seconds(speech, inside), covered_seconds(speech, again)
        kept = "unguided" if unguided >= guided + MARGIN_SECONDS else "guided"
        if kept == "unguided":
            outside = [s for s in segments if s not in inside]
            segments = sorted(outside + again, key=lambda s: (s.start, s.end))
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
