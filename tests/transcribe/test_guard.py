"""The guard against dropped speech: unit cases on made-up passes, and tiny.en's real failure on the fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.config import Settings
from archive.media.decode import decode_audio
from archive.transcribe import activity, make_transcriber
from archive.transcribe.activity import Stretch
from archive.transcribe.evaluate import normalize, reference_text, terms_right, word_error_rate
from archive.transcribe.glossary import HOTWORDS, Glossary, read_glossary
from archive.transcribe.guard import covered_seconds, guarded
from archive.transcribe.transcript import Transcript, TranscriptSegment, Word
from tests.factories.media import FIXTURES

GLOSSARY = FIXTURES / "glossary" / "glossary.txt"


def said(start: float, end: float, text: str = "words") -> TranscriptSegment:
    """A segment whose words fill start–end, one word a second."""
    words = tuple(Word(f" {text}", float(t), float(min(t + 1, end)), 0.9) for t in range(int(start), int(end)))
    return TranscriptSegment(start, end, text, words, -0.2, 0.01, "en")


def test_a_pass_that_skips_speech_is_replaced_where_the_unguided_one_covers_more() -> None:
    speech = [Stretch(0.0, 10.0), Stretch(12.0, 30.0)]
    guided = [said(0.0, 10.0, "names"), said(12.0, 16.0, "names")]  # 16–30 s: speech, no words
    asked: list[Stretch] = []

    def unguided(span: Stretch) -> list[TranscriptSegment]:
        asked.append(span)
        return [said(12.0, 30.0, "all of it")]

    segments, checks = guarded(speech, guided, unguided)
    assert asked == [Stretch(12.0, 30.0)]  # the hole, widened to its whole stretch of speech
    assert [s.text for s in segments] == ["names", "all of it"]  # the first stretch keeps the glossary's words
    (check,) = checks
    assert (check.start, check.end, check.kept) == (12.0, 30.0, "unguided")
    assert check.speech_seconds == 18.0 and check.unguided_seconds > check.guided_seconds + 10
    assert check.note == "guard: 12.0–30.0 re-transcribed without the glossary"


def test_a_segment_across_the_spans_edge_keeps_its_words_outside_it_once() -> None:
    speech = [Stretch(0.0, 10.0), Stretch(12.0, 30.0)]
    guided = [said(0.0, 14.0, "before")]  # runs 2 s into the stretch it then skips
    segments, checks = guarded(speech, guided, lambda span: [said(12.0, 30.0, "again")])
    assert [(s.start, s.end, s.text) for s in segments] == [
        (0.0, 12.0, "before " * 11 + "before"),
        (12.0, 30.0, "again"),
    ]
    assert sum(len(s.words) for s in segments) == 12 + 18  # no second covers twice
    assert checks[0].kept == "unguided" and checks[0].guided_seconds == 2.5  # 12–14 s, and a word's slack


def test_a_guided_pass_that_is_nearly_as_good_stays_and_its_hole_is_filled() -> None:
    speech = [Stretch(0.0, 30.0)]
    guided = [said(0.0, 27.0, "guided")]  # 2.5 s short of the end, less than a tenth of the speech
    segments, checks = guarded(speech, guided, lambda span: [said(0.0, 30.0, "unguided")])
    assert [(s.start, s.end, s.text) for s in segments] == [
        (0.0, 27.0, "guided"),
        (27.0, 30.0, "unguided unguided unguided"),
    ]
    assert checks[0].kept == "both" and "where the guided words left speech out" in checks[0].note


def test_the_guided_pass_stays_when_the_unguided_one_does_no_better() -> None:
    speech = [Stretch(0.0, 10.0)]
    guided = [said(0.0, 6.0, "guided")]
    segments, checks = guarded(speech, guided, lambda span: [said(0.0, 6.0, "unguided")])
    assert [s.text for s in segments] == ["guided"]
    assert [c.kept for c in checks] == ["guided"]
    assert "the guided words were kept" in checks[0].note


def test_a_pass_that_covers_the_speech_is_not_transcribed_again() -> None:
    def unguided(span: Stretch) -> list[TranscriptSegment]:
        raise AssertionError("no hole, no second pass")

    segments, checks = guarded([Stretch(0.0, 5.0)], [said(0.0, 5.0)], unguided)
    assert checks == [] and len(segments) == 1
    assert covered_seconds([Stretch(0.0, 5.0)], segments) == 5.0


def test_checks_and_guidance_survive_the_json_file() -> None:
    segments, checks = guarded([Stretch(0.0, 10.0)], [said(0.0, 2.0)], lambda span: [said(0.0, 10.0)])
    glossary = Glossary(("Addison County", "Border Patrol"), HOTWORDS)
    transcript = Transcript(
        "faster-whisper",
        "tiny.en",
        "1",
        "en",
        10.0,
        tuple(segments),
        languages=("en",),
        guidance=glossary.record(),
        checks=tuple(checks),
    )
    again = Transcript.from_json(transcript.to_json())
    assert again == transcript
    assert again.guidance["text"] == "Addison County, Border Patrol." and again.guidance["mode"] == "hotwords"


@pytest.mark.slow
def test_tiny_en_skips_the_testimony_under_a_glossary_and_the_guard_keeps_it(glossary_testimony: Path) -> None:
    """Issue 24's failure, reproduced: tiny.en with the 9-term glossary as its prompt writes words for about 8 of
    the testimony's first 28 seconds of speech. The guard transcribes that span again without the glossary and
    keeps the speech; the transcript says so."""
    transcriber = make_transcriber(Settings(engine="faster-whisper", model="tiny.en", threads=1))
    _, audio = decode_audio(glossary_testimony)
    glossary = Glossary(tuple(read_glossary(GLOSSARY)))
    transcript = transcriber.transcribe(audio, glossary=glossary)

    dropped = [c for c in transcript.checks if c.kept == "unguided"]
    assert dropped, transcript.checks
    assert dropped[0].start < 2.0 and dropped[0].guided_seconds < dropped[0].speech_seconds / 2
    assert dropped[0].unguided_seconds > 0.9 * dropped[0].speech_seconds
    speech = activity.speech_stretches(audio)
    assert covered_seconds(speech, list(transcript.segments)) > 0.95 * sum(s.duration for s in speech)
    truth = json.loads(glossary_testimony.with_suffix(".json").read_text())["turns"][0]["text"]
    testimony = " ".join(w.word for s in transcript.segments for w in s.words if w.start < 42.5)
    assert word_error_rate(truth, testimony) < 0.2, testimony
    for words in ("eleven years", "three months", "grocery store", "please pass this policy"):
        assert normalize(words) in normalize(transcript.text)
    assert transcript.guidance["terms"] == list(glossary.terms)
    assert transcript.guidance["windows"][0]["prompts"]["en"] == glossary.text  # the first window: nothing earlier
    assert word_error_rate(reference_text(glossary_testimony.with_suffix(".stm")), transcript.text) < 0.25


def test_the_recipe_makes_the_committed_truth(glossary_testimony: Path) -> None:
    folder = FIXTURES / "glossary"
    for name in ("glossary-testimony.stm", "glossary-testimony.json"):
        assert (glossary_testimony.parent / name).read_text() == (folder / name).read_text()


def test_names_and_places_accuracy_counts_each_time_a_term_is_said() -> None:
    reference = "I work in Addison County. Border Patrol came to Addison County; Vergennes too."
    hypothesis = "I work in Edison County. Border Patrol came to Addison County, and Virgins too."
    assert terms_right(["Addison County", "Border Patrol", "Vergennes", "Swanton"], reference, hypothesis) == (2, 4)
