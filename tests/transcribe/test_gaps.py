"""Untranscribed speech: which parts of the speech count as holes, which text is suspect, and what a gap says.

The real case (tiny.en on Spanish testimony) is in test_multilingual.py; here the rules, on made-up timings.
"""

from __future__ import annotations

import numpy as np

from archive.media.decode import SAMPLE_RATE
from archive.transcribe.activity import Stretch
from archive.transcribe.gaps import holes, reason, suspects, window_gaps
from archive.transcribe.transcript import TranscriptSegment, Word


def said(*words: tuple[float, float], probability: float = 0.9) -> TranscriptSegment:
    timed = tuple(Word("word", start, end, probability) for start, end in words)
    return TranscriptSegment(words[0][0], words[-1][1], "word " * len(words), timed, -0.3, 0.01, "en")


def test_speech_covered_by_words_has_no_holes_despite_pauses_between_words() -> None:
    stretches = [Stretch(0.0, 10.0)]
    words = [(0.2, 0.6), (0.9, 1.4), (2.2, 2.8), (3.5, 4.0), (4.8, 9.8)]  # pauses of up to 0.8 s
    assert holes(stretches, [said(*words)]) == []


def test_speech_without_words_is_a_hole_and_a_short_one_is_not() -> None:
    stretches = [Stretch(0.0, 10.0), Stretch(12.0, 12.8), Stretch(15.0, 25.0)]
    segments = [said((0.5, 1.0), (1.2, 4.0))]
    # 4.5-10 s uncovered (4.0 + 0.5 s of slack); 12-12.8 s is under a second; 15-25 s has no words at all
    assert holes(stretches, segments) == [Stretch(4.5, 10.0), Stretch(15.0, 25.0)]


def test_the_pieces_of_one_long_stretch_are_one_hole() -> None:
    # voice activity cuts a stretch at 30 s; the two pieces touch
    assert holes([Stretch(0.0, 30.0), Stretch(30.05, 41.0)], []) == [Stretch(0.0, 41.0)]


def test_doubtful_segments_are_suspect() -> None:
    sure, doubtful = said((0.0, 1.0), (1.0, 2.0)), said((3.0, 4.0), (4.0, 9.0), probability=0.12)
    assert suspects([sure, doubtful]) == [Stretch(3.0, 9.0)]


def test_a_gap_says_what_was_heard_and_what_to_do() -> None:
    assert reason("es", ("en",)) == "speech not transcribed — Spanish? re-run with --languages en,es"
    assert reason("es", ("en", "es")) == "speech not transcribed — the model wrote nothing for this Spanish speech"
    assert reason("", ("en",)) == "speech not transcribed — the model wrote nothing here"


def test_window_gaps_name_untranscribed_and_misunderstood_speech_on_the_recording_timeline() -> None:
    audio = np.zeros(40 * SAMPLE_RATE, np.float32)
    audio[20 * SAMPLE_RATE : 30 * SAMPLE_RATE] = 0.1  # the suspect segment's span: heard as Spanish
    stretches = [Stretch(0.0, 8.0), Stretch(10.0, 18.0), Stretch(20.0, 30.0)]
    segments = [said((0.2, 7.5)), said((20.0, 25.0), (25.0, 30.0), probability=0.1)]

    def guess(samples: np.ndarray) -> tuple[str, float] | None:
        return ("es", 0.97) if samples.max() > 0 else ("en", 0.88)

    gaps = window_gaps(audio, stretches, segments, ("en",), guess, offset=300.0)
    assert [(g.start, g.end, g.language) for g in gaps] == [(310.0, 318.0, "en"), (320.0, 330.0, "es")]
    assert gaps[0].reason == "speech not transcribed — the model wrote nothing for this English speech"
    assert gaps[1].reason == (
        "speech not understood — Spanish? re-run with --languages en,es; the text written here is not a"
        " transcription of it"
    )
    # English text the model doubts, heard as English, is not a gap
    assert window_gaps(audio * 0, stretches[:1], [said((0.2, 7.5), probability=0.1)], ("en",), guess, 0.0) == []
