"""Word error rates as the quality targets state them, and how well a transcript keeps each turn's language."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.transcribe.transcript import TranscriptSegment


def normalize(text: str, language: str = "en") -> str:
    """English through Whisper's English normaliser; any other language lower-cased, without punctuation or
    accents (so "policía" and "policia" are the same word)."""
    if language == "en":
        from whisper.normalizers import EnglishTextNormalizer

        return " ".join(EnglishTextNormalizer()(text).split())
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]|_", " ", plain).split())


def word_error_rate(reference: str, hypothesis: str, language: str = "en") -> float:
    import jiwer

    truth, guess = normalize(reference, language), normalize(hypothesis, language)
    if not truth:
        return 0.0 if not guess else 1.0
    return float(jiwer.wer(truth, guess or "<empty>"))


def reference_text(stm: Path) -> str:
    """The words of an STM file (`uri channel speaker start end text…`), in time order."""
    rows = []
    for line in stm.read_text(encoding="utf-8").splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and not line.startswith(";;"):
            rows.append((float(parts[3]), parts[5]))
    return " ".join(text for _, text in sorted(rows))


@dataclass(frozen=True)
class TurnScores:
    wer: dict[str, float]  # by language
    right: tuple[bool, ...]  # per turn: did it come out in its own language

    @property
    def turns_right(self) -> int:
        return sum(self.right)


def turn_scores(
    turns: list[dict[str, Any]], segments: tuple[TranscriptSegment, ...] | list[TranscriptSegment]
) -> TurnScores:
    """Per language, the WER of the segments that fall in that language's turns (each segment goes to the turn
    it overlaps most, whatever language it was given), and which turns came out in their own language (the
    language of most of the transcribed seconds inside the turn).

    `turns` are truth turns: {"language", "start", "end", "text"}.
    """
    heard: list[list[TranscriptSegment]] = [[] for _ in turns]
    for segment in segments:
        overlaps = [min(segment.end, t["end"]) - max(segment.start, t["start"]) for t in turns]
        best = max(range(len(turns)), key=lambda i: overlaps[i])
        if overlaps[best] > 0:
            heard[best].append(segment)
    right = []
    for turn, mine in zip(turns, heard, strict=True):
        seconds: dict[str, float] = {}
        for s in mine:
            seconds[s.language] = seconds.get(s.language, 0.0) + s.end - s.start
        right.append(bool(seconds) and max(seconds, key=lambda k: seconds[k]) == turn["language"])
    wer = {}
    for language in dict.fromkeys(t["language"] for t in turns):
        reference = " ".join(t["text"] for t in turns if t["language"] == language)
        hypothesis = " ".join(
            s.text for t, mine in zip(turns, heard, strict=True) for s in mine if t["language"] == language
        )
        wer[language] = word_error_rate(reference, hypothesis, language)
    return TurnScores(wer, tuple(right))


def terms_right(terms: list[str] | tuple[str, ...], reference: str, hypothesis: str) -> tuple[int, int]:
    """Names-and-places accuracy: of the times the terms are said in the reference, how many the hypothesis
    writes right (each term's count in the hypothesis, up to its count in the reference; normalised as for WER).
    Returns (right, said)."""
    truth, guess = f" {normalize(reference)} ", f" {normalize(hypothesis)} "
    right = said = 0
    for term in dict.fromkeys(normalize(t) for t in terms):
        if term:
            count = truth.count(f" {term} ")
            said += count
            right += min(count, guess.count(f" {term} "))
    return right, said
