"""The transcript file: the language fields and gaps go in and come back; files written before them still load."""

from __future__ import annotations

import json

from archive.transcribe.transcript import Gap, Transcript, TranscriptSegment, Word

# A transcript as the archive wrote it before languages were decided per stretch (no language_probability,
# language_source, languages or gaps).
OLD = {
    "engine": "faster-whisper",
    "model": "tiny.en",
    "engine_version": "1.2.1 (ctranslate2 4.6.0)",
    "language": "en",
    "duration": 11.0,
    "segments": [
        {
            "start": 0.0,
            "end": 8.06,
            "text": "And so, my fellow Americans",
            "words": [{"word": "And", "start": 0.0, "end": 0.3, "probability": 0.91}],
            "avg_logprob": -0.3,
            "no_speech_prob": 0.07,
            "language": "en",
        }
    ],
    "parameters": {"language": "en", "beam_size": 5},
    "processing_seconds": 1.2,
}


def test_a_transcript_written_before_languages_per_stretch_still_loads() -> None:
    transcript = Transcript.from_json(json.dumps(OLD))
    segment = transcript.segments[0]
    assert segment.language == "en" and segment.language_probability is None and segment.language_source == ""
    assert transcript.languages == ("en",)  # worked out from its segments
    assert transcript.gaps == ()
    assert transcript.text == "And so, my fellow Americans"


def test_languages_and_gaps_survive_the_file() -> None:
    word = Word("Buenas", 12.0, 12.4, 0.8)
    transcript = Transcript(
        engine="faster-whisper",
        model="base",
        engine_version="x",
        language="en",
        duration=60.0,
        segments=(
            TranscriptSegment(
                0.0, 9.6, "Thank you.", (Word("Thank", 0.0, 0.3, 0.9),), -0.2, 0.01, "en", 0.9994, "detected"
            ),
            TranscriptSegment(12.0, 13.0, "Buenas.", (word,), -0.4, 0.02, "es", 0.9795, "neighbour"),
        ),
        languages=("en", "es"),
        gaps=(Gap(20.0, 29.5, "speech not transcribed — French? re-run with --languages en,es,fr", "fr"),),
    )
    again = Transcript.from_json(transcript.to_json())
    assert again == transcript
    data = json.loads(transcript.to_json())
    assert data["segments"][1]["language"] == "es" and data["segments"][1]["language_source"] == "neighbour"
    assert data["gaps"][0]["reason"].startswith("speech not transcribed — French?")
