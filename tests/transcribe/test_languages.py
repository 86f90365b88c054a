"""The rules of language per stretch: which stretches are identified, who takes a neighbour's language, where a
window is cut between languages, and how segments decoded from joined regions come back to the timeline.

The model's part (identification, decoding) is played by small stand-ins here; the real models on real speech
are in test_multilingual.py.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from archive.errors import InvalidInput
from archive.media.decode import SAMPLE_RATE
from archive.transcribe.activity import Stretch
from archive.transcribe.languages import (
    Labelled,
    Region,
    label_stretches,
    language_regions,
    restricted,
    transcribe_regions,
    usable_languages,
)
from archive.transcribe.transcript import TranscriptSegment, Word

LANGUAGES = ("en", "es")


def by_length(spanish_seconds: set[float]) -> Callable[[np.ndarray], dict[str, float]]:
    """Identification that hears Spanish in stretches of the given lengths, English elsewhere; records its calls."""

    def identify(samples: np.ndarray) -> dict[str, float]:
        identify.calls.append(len(samples) / SAMPLE_RATE)  # type: ignore[attr-defined]
        spanish = round(len(samples) / SAMPLE_RATE, 1) in spanish_seconds
        return {"es": 0.9, "en": 0.05, "pt": 0.05} if spanish else {"en": 0.6, "es": 0.2, "fr": 0.2}

    identify.calls = []  # type: ignore[attr-defined]
    return identify


def test_probabilities_are_renormalised_over_the_configured_languages() -> None:
    assert restricted({"en": 0.6, "es": 0.2, "fr": 0.2}, LANGUAGES) == ("en", pytest.approx(0.75))
    assert restricted({"pt": 0.9, "es": 0.06, "en": 0.04}, LANGUAGES) == ("es", pytest.approx(0.6))
    assert restricted({"fr": 1.0}, LANGUAGES) == ("en", 0.5)  # nothing to go on: even odds


def test_long_stretches_are_identified_and_short_ones_take_the_nearest() -> None:
    audio = np.zeros(60 * SAMPLE_RATE, np.float32)
    stretches = [Stretch(0.0, 5.0), Stretch(5.6, 7.0), Stretch(9.0, 13.0), Stretch(20.0, 21.0), Stretch(30.0, 34.0)]
    identify = by_length({4.0})
    labelled = label_stretches(audio, stretches, LANGUAGES, identify)
    assert identify.calls == [5.0, 4.0, 4.0]  # type: ignore[attr-defined]  # the ≥ 3 s stretches alone
    assert [(item.language, item.source) for item in labelled] == [
        ("en", "detected"),
        ("en", "neighbour"),  # 0.6 s from the English stretch, 2 s from the Spanish one
        ("es", "detected"),
        ("es", "neighbour"),  # 7 s from 9-13 s, 9 s from 30-34 s
        ("es", "detected"),
    ]
    assert labelled[0].probability == 0.75 and labelled[1].probability == 0.75
    assert labelled[2].probability == pytest.approx(0.9 / 0.95, abs=1e-4)


def test_a_window_of_short_speech_identifies_its_longest_stretch() -> None:
    audio = np.zeros(20 * SAMPLE_RATE, np.float32)
    stretches = [Stretch(1.0, 2.0), Stretch(4.0, 6.5), Stretch(8.0, 9.0)]
    labelled = label_stretches(audio, stretches, LANGUAGES, by_length({2.5}))
    assert [(item.language, item.source) for item in labelled] == [
        ("es", "neighbour"),
        ("es", "detected"),
        ("es", "neighbour"),
    ]


def test_one_language_is_never_identified() -> None:
    stretches = [Stretch(0.0, 5.0)]
    identify = by_length(set())
    labelled = label_stretches(np.zeros(SAMPLE_RATE * 6, np.float32), stretches, ("es",), identify)
    assert identify.calls == []  # type: ignore[attr-defined]
    assert labelled == [Labelled(stretches[0], "es", None, "configured")]


def labelled(start: float, end: float, language: str) -> Labelled:
    return Labelled(Stretch(start, end), language, 0.9, "detected")


def test_regions_cover_the_window_and_are_cut_in_the_middle_of_the_pause() -> None:
    items = [labelled(0.5, 4.0, "en"), labelled(4.5, 8.0, "en"), labelled(9.0, 15.0, "es"), labelled(17.0, 20.0, "en")]
    regions = language_regions(items, 22.0, LANGUAGES)
    assert [(r.start, r.end, r.language, len(r.stretches)) for r in regions] == [
        (0.0, 8.5, "en", 2),
        (8.5, 16.0, "es", 1),
        (16.0, 22.0, "en", 1),
    ]
    assert language_regions([], 22.0, LANGUAGES) == [Region(0.0, 22.0, "en", ())]


def test_each_language_is_decoded_once_with_its_own_prompt_and_comes_back_to_its_place() -> None:
    # English 0-8 s, Spanish 8-16 s, English 16-24 s: the English regions are joined into 16 s of audio.
    audio = np.zeros(24 * SAMPLE_RATE, np.float32)
    regions = [
        Region(0.0, 8.0, "en", (labelled(1.0, 7.0, "en"),)),
        Region(8.0, 16.0, "es", (labelled(9.0, 15.0, "es"),)),
        Region(16.0, 24.0, "en", (labelled(17.0, 23.0, "en"),)),
    ]
    calls = []

    def decode(samples: np.ndarray, language: str, prompt: str, report) -> list[TranscriptSegment]:  # type: ignore[no-untyped-def]
        calls.append((len(samples) / SAMPLE_RATE, language, prompt))
        if language == "es":
            return [segment(1.0, 6.0, [(" Buenas", 1.0, 1.5), (" tardes.", 1.6, 2.2)], "es")]
        # one segment straddles the join of the two English regions (at 8 s in the joined audio)
        words = [(" Thank", 6.0, 6.5), (" you.", 6.6, 7.4), (" Good", 9.0, 9.5), (" afternoon.", 9.6, 10.5)]
        return [segment(6.0, 10.5, words, "en")]

    prompts = {"en": "Earlier English.", "es": "Antes."}
    placed = transcribe_regions(audio, regions, prompts, decode, lambda seconds: None)
    assert calls == [(16.0, "en", "Earlier English."), (8.0, "es", "Antes.")]
    assert [(s.start, s.end, s.text, s.language) for s in placed] == [
        (6.0, 7.4, "Thank you.", "en"),
        (9.0, 14.0, "Buenas tardes.", "es"),  # a segment in one region keeps its own span
        (17.0, 18.5, "Good afternoon.", "en"),
    ]
    assert [w.word for w in placed[2].words] == ["Good", "afternoon."]
    assert (placed[1].words[1].start, placed[1].words[1].end) == (9.6, 10.2)
    assert {(s.language_source, s.language_probability) for s in placed} == {("detected", 0.9)}


def segment(start: float, end: float, words: list[tuple[str, float, float]], language: str) -> TranscriptSegment:
    text = "".join(w for w, _, _ in words).strip()
    return TranscriptSegment(start, end, text, tuple(Word(w, s, e, 0.9) for w, s, e in words), -0.2, 0.01, language)


def test_an_english_only_model_refuses_other_languages() -> None:
    assert usable_languages("tiny.en", ("en",), multilingual=False) == ("en",)
    with pytest.raises(InvalidInput, match=r"'tiny.en' is English-only but the languages include es"):
        usable_languages("tiny.en", ("en", "es"), multilingual=False)
