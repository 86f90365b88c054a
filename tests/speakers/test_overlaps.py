"""Overlapping speech on one mixed track: a remark said over testimony is flagged, with both voices; the
single-speaker-at-a-time fixtures get no false overlaps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.speakers.diarize import Diarizer, Overlap
from archive.speakers.evaluate import diarization_error, read_rttm
from tests.factories.media import FIXTURES, speech
from tests.fixtures.synth.mix import read_wav

TRUTH = json.loads((FIXTURES / "hotmic" / "hotmic.json").read_text())
SPAN = TRUTH["overlap"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def diarizer() -> Diarizer:
    return Diarizer(threads=1)


@pytest.mark.parametrize("level", [-6, -12])
def test_a_remark_over_testimony_is_flagged_with_both_voices(diarizer: Diarizer, hotmic: Path, level: int) -> None:
    result = diarizer.diarize(read_wav(hotmic / f"hotmic{level}db.wav"))
    assert len(result.voices) == 2
    [overlap] = result.overlaps[0]
    assert isinstance(overlap, Overlap)
    assert abs(overlap.start - SPAN["start"]) <= 0.5 and abs(overlap.end - SPAN["end"]) <= 0.5, overlap
    assert overlap.speakers == (0, 1)
    # The remark is a voice of its own, not folded into the testimony it was said over.
    remark = [t for t in result.turns[0] if t.speaker == 1]
    assert sum(t.end - t.start for t in remark) >= 0.8 * (SPAN["end"] - SPAN["start"])
    hypothesis = [(t.start, t.end, str(t.speaker)) for t in result.turns[0]]
    assert diarization_error(read_rttm(FIXTURES / "hotmic" / "hotmic.rttm"), hypothesis, 0.25).der <= 0.05


@pytest.mark.parametrize("track", ["testimony", "remark"])
def test_each_voice_alone_on_its_track_is_one_voice_without_overlaps(
    diarizer: Diarizer, hotmic: Path, track: str
) -> None:
    result = diarizer.diarize(read_wav(hotmic / f"hotmic-{track}.wav"))
    assert len(result.voices) == 1 and result.overlaps == [[]]
    words = TRUTH["voices"][track]["words"]
    assert result.turns[0][0].start == pytest.approx(words[0]["start"], abs=0.3)
    assert result.turns[0][-1].end == pytest.approx(words[-1]["end"], abs=0.3)


def test_the_remark_channel_hears_the_testimony_bleed_as_a_second_voice(diarizer: Diarizer, hotmic: Path) -> None:
    """20 dB of bleed is still speech to the model: a track's diarization finds it (the merge of tracks keeps
    words once, from the loudest track); the testimony channel hears the quieter remark as nobody."""
    channels = read_wav(hotmic / "hotmic-2ch.wav")
    testimony = diarizer.diarize(channels[:, 0].copy())
    assert len(testimony.voices) == 1 and testimony.overlaps == [[]]
    remark = diarizer.diarize(channels[:, 1].copy())
    assert len(remark.voices) == 2
    [overlap] = remark.overlaps[0]
    assert abs(overlap.start - SPAN["start"]) <= 0.5 and abs(overlap.end - SPAN["end"]) <= 0.5


def test_no_false_overlaps_where_people_speak_one_at_a_time(diarizer: Diarizer) -> None:
    assert diarizer.diarize(speech("jfk.flac")).overlaps == [[]]
    demo = Path(__file__).resolve().parents[2] / "archive" / "demo" / "demo-meeting.ogg"
    assert diarizer.diarize(speech(str(demo))).overlaps == [[]]


def test_overlaps_found_on_the_phone_call_are_real_ones(diarizer: Diarizer) -> None:
    """sample.wav has four short overlaps (1.89 s); what is flagged lies inside one of them, give or take 0.3 s."""
    reference = read_rttm(FIXTURES / "sample.rttm")
    true = [
        (max(a[0], b[0]), min(a[1], b[1]))
        for i, a in enumerate(reference)
        for b in reference[i + 1 :]
        if a[2] != b[2] and min(a[1], b[1]) > max(a[0], b[0])
    ]
    found = diarizer.diarize(speech("sample.wav")).overlaps[0]
    assert 1 <= len(found) <= len(true)
    for overlap in found:
        assert any(overlap.start >= s - 0.3 and overlap.end <= e + 0.3 for s, e in true), overlap
