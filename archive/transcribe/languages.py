"""Language per stretch of speech: identify each stretch among the configured languages, then transcribe each
language's speech in that language.

Inside a window, every stretch of speech of at least MIN_IDENTIFY_SECONDS is identified by the model, among the
configured languages only; a shorter one takes the language of the nearest identified stretch (a "yes" or a
name says too little about its language). The window is then cut into regions, one per run of stretches in the
same language, each cut in the middle of the pause between two runs, so every sample belongs to one region and
nothing the voice activity missed is thrown away. Each language's regions are joined and transcribed in one
pass in that language, prompted only with earlier text in that language, and the words are put back on the
window's timeline; a segment that spans two regions is split between them.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from archive.errors import InvalidInput
from archive.media.decode import SAMPLE_RATE
from archive.transcribe import gaps, guard
from archive.transcribe.activity import Stretch
from archive.transcribe.transcript import CONFIGURED, DETECTED, NEIGHBOUR, Check, Engine, TranscriptSegment, Word

MIN_IDENTIFY_SECONDS = 3.0
# A longer stretch is identified by its first 10 s: on the fixtures' 21 stretches of 3-30 s the first 10, 15 and
# 30 s gave the same language every time (probabilities within 0.04), and 10 s cost half of 30 s.
IDENTIFY_SECONDS = 10

# Language probabilities of some audio, over every language the model knows.
Identify = Callable[[np.ndarray], dict[str, float]]
# Transcribes audio in the given language with the given prompt; segments' times are relative to the audio,
# their words keep the engine's spacing (" word") so that a split segment's text can be put together again.
Decode = Callable[[np.ndarray, str, str, Callable[[float], None]], list[TranscriptSegment]]


@dataclass(frozen=True)
class Labelled:
    stretch: Stretch
    language: str
    probability: float | None
    source: str


@dataclass(frozen=True)
class Region:
    """Part of a window, from one cut to the next, whose speech is in one language."""

    start: float
    end: float
    language: str
    stretches: tuple[Labelled, ...]


def transcribe_window(
    audio: np.ndarray,
    stretches: list[Stretch],
    engine: Engine,
    prompts: dict[str, str],
    report: Callable[[float], None],
    *,
    hotwords: str = "",
    guided: bool = False,
) -> tuple[list[TranscriptSegment], list[Check]]:
    """One window: its stretches labelled, its regions transcribed; a guided pass (a glossary in the prompts or
    hotwords) is checked by the guard (archive.transcribe.guard); then each hole (speech without words) heard in
    a configured language is transcribed once more on its own, without a prompt (a prompt, or the speech around
    it, can lead a model to skip speech it would have written down alone)."""
    languages = engine.languages
    identify = engine.identify if len(languages) > 1 else None
    labelled = label_stretches(audio, stretches, languages, identify)
    regions = language_regions(labelled, len(audio) / SAMPLE_RATE, languages)
    decode: Decode = functools.partial(engine.decode, hotwords=hotwords) if hotwords else engine.decode
    found = [s for s in transcribe_regions(audio, regions, prompts, decode, report) if s.text.strip()]
    checks: list[Check] = []
    if guided:

        def unguided(span: Stretch) -> list[TranscriptSegment]:
            region = max(regions, key=lambda r: min(r.end, span.end) - max(r.start, span.start))
            inside = tuple(d for d in region.stretches if d.stretch.end > span.start and d.stretch.start < span.end)
            return transcribe_regions(
                audio, [Region(span.start, span.end, region.language, inside)], {}, engine.decode, lambda _: None
            )

        found, checks = guard.guarded(stretches, found, unguided)
    for hole in gaps.holes(stretches, found):
        heard = engine.guess(hole.samples(audio))
        if heard and heard[0] in languages:
            region = Region(hole.start, hole.end, heard[0], (Labelled(hole, heard[0], heard[1], DETECTED),))
            again = transcribe_regions(audio, [region], {}, engine.decode, lambda _: None)
            found += [s for s in again if s.text.strip()]
    return sorted(found, key=lambda s: (s.start, s.end)), checks


def usable_languages(model: str, languages: tuple[str, ...], multilingual: bool) -> tuple[str, ...]:
    """The configured languages, refused at once when the model cannot transcribe them all."""
    others = [code for code in languages if code != "en"]
    if others and not multilingual:
        raise InvalidInput(
            f"Whisper model {model!r} is English-only but the languages include {','.join(others)}: its speech"
            " would be lost; choose a multilingual model (base) or English alone"
        )
    return tuple(languages)


def restricted(probabilities: dict[str, float], languages: tuple[str, ...]) -> tuple[str, float]:
    """The most probable of the configured languages, and its probability among them alone."""
    weights = {code: probabilities.get(code, 0.0) for code in languages}
    total = sum(weights.values())
    best = max(languages, key=lambda code: weights[code])
    return best, (weights[best] / total if total > 0 else 1.0 / len(languages))


def label_stretches(
    audio: np.ndarray, stretches: list[Stretch], languages: tuple[str, ...], identify: Identify | None
) -> list[Labelled]:
    """Each stretch with its language, its probability and how it was decided."""
    if len(languages) == 1 or identify is None:
        return [Labelled(s, languages[0], None, CONFIGURED) for s in stretches]
    long_enough = [s for s in stretches if s.duration >= MIN_IDENTIFY_SECONDS]
    if not long_enough and stretches:  # only short speech in this window: the longest is the best evidence
        long_enough = [max(stretches, key=lambda s: s.duration)]
    detected = {}
    for stretch in long_enough:
        samples = stretch.samples(audio)[: IDENTIFY_SECONDS * SAMPLE_RATE]
        language, probability = restricted(identify(samples), languages)
        detected[stretch] = Labelled(stretch, language, round(probability, 4), DETECTED)
    labelled = []
    for stretch in stretches:
        if stretch in detected:
            labelled.append(detected[stretch])
            continue
        nearest = min(detected.values(), key=lambda d: _distance(stretch, d.stretch))  # ties: the earlier one
        labelled.append(Labelled(stretch, nearest.language, nearest.probability, NEIGHBOUR))
    return labelled


def language_regions(labelled: list[Labelled], duration: float, languages: tuple[str, ...]) -> list[Region]:
    """The window cut into regions of one language each; together they cover it exactly."""
    if not labelled:
        return [Region(0.0, duration, languages[0], ())]
    runs: list[list[Labelled]] = []
    for item in labelled:
        if runs and runs[-1][-1].language == item.language:
            runs[-1].append(item)
        else:
            runs.append([item])
    cuts = [0.0]
    for before, after in zip(runs, runs[1:], strict=False):
        cuts.append(round((before[-1].stretch.end + after[0].stretch.start) / 2, 3))
    cuts.append(duration)
    return [Region(cuts[i], cuts[i + 1], run[0].language, tuple(run)) for i, run in enumerate(runs)]


def transcribe_regions(
    audio: np.ndarray, regions: list[Region], prompts: dict[str, str], decode: Decode, report: Callable[[float], None]
) -> list[TranscriptSegment]:
    """Each language's regions joined and decoded in one pass; segments on the window's timeline, in time order."""
    segments: list[TranscriptSegment] = []
    done = 0.0
    for language in dict.fromkeys(r.language for r in regions):
        mine = [r for r in regions if r.language == language]
        pieces = [audio[int(r.start * SAMPLE_RATE) : int(r.end * SAMPLE_RATE)] for r in mine]
        offsets = [float(x) / SAMPLE_RATE for x in np.cumsum([0] + [len(p) for p in pieces])]
        joined = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]

        def progress(seconds: float, before: float = done) -> None:
            report(before + seconds)

        for segment in decode(joined, language, prompts.get(language, ""), progress):
            segments += _placed(segment, mine, offsets)
        done += len(joined) / SAMPLE_RATE
    return sorted(segments, key=lambda s: (s.start, s.end))


def _placed(segment: TranscriptSegment, regions: list[Region], offsets: list[float]) -> list[TranscriptSegment]:
    """A segment decoded from joined regions, back on the window's timeline: one part per region it spans."""

    def region_of(t: float) -> int:
        return min(max(bisect.bisect_right(offsets, t) - 1, 0), len(regions) - 1)

    def moved(t: float, index: int) -> float:
        region = regions[index]
        return round(min(max(region.start + t - offsets[index], region.start), region.end), 3)

    parts: dict[int, list[Word]] = {}
    for word in segment.words:
        index = region_of((word.start + word.end) / 2)
        parts.setdefault(index, []).append(replace(word, start=moved(word.start, index), end=moved(word.end, index)))
    if not parts:  # no words: the segment goes where its middle is
        index = region_of((segment.start + segment.end) / 2)
        return [
            _labelled(
                replace(segment, start=moved(segment.start, index), end=moved(segment.end, index)), regions[index]
            )
        ]
    placed = []
    for index, words in parts.items():
        text = segment.text if len(parts) == 1 else "".join(w.word for w in words)
        part = replace(segment, start=words[0].start, end=words[-1].end, text=text.strip(), words=tuple(words))
        if len(parts) == 1:
            part = replace(part, start=moved(segment.start, index), end=moved(segment.end, index))
        placed.append(_labelled(part, regions[index]))
    return placed


def _labelled(segment: TranscriptSegment, region: Region) -> TranscriptSegment:
    """The segment with its words' spacing removed and the language decision of the stretch it overlaps most."""
    words = tuple(replace(w, word=w.word.strip()) for w in segment.words if w.word.strip())
    best = max(region.stretches, key=lambda d: _overlap(segment, d.stretch), default=None)
    probability, source = (best.probability, best.source) if best else (None, CONFIGURED)
    return replace(
        segment, words=words, language=region.language, language_probability=probability, language_source=source
    )


def _distance(a: Stretch, b: Stretch) -> float:
    return max(b.start - a.end, a.start - b.end, 0.0)


def _overlap(segment: TranscriptSegment, stretch: Stretch) -> float:
    return min(segment.end, stretch.end) - max(segment.start, stretch.start)
