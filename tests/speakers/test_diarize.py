"""Diarization on real speech: the fixtures' speakers found, their turns scored against the reference RTTM."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from archive.speakers.diarize import Diarization, Diarizer
from archive.speakers.evaluate import diarization_error, read_rttm
from archive.speakers.windows import SAMPLE_RATE, WINDOW_SECONDS
from tests.factories.media import FIXTURES, mostly_silent, speech


@pytest.fixture(scope="module")
def diarizer() -> Diarizer:
    return Diarizer(threads=1)


@pytest.fixture(scope="module")
def sample(diarizer: Diarizer) -> Diarization:
    return diarizer.diarize(speech("sample.wav"))


def hypothesis(result: Diarization) -> list[tuple[float, float, str]]:
    return [(t.start, t.end, f"SPEAKER_{t.speaker:02d}") for t in result.turns[0]]


def test_sample_has_two_speakers_and_a_der_under_a_tenth(sample: Diarization) -> None:
    reference = read_rttm(FIXTURES / "sample.rttm")
    assert len(sample.voices) == 2
    error = diarization_error(reference, hypothesis(sample), collar=0.25)
    assert error.der <= 0.10, error
    # Scored speech is the reference's, overlap counted once per speaker.
    whole = diarization_error(reference, hypothesis(sample), collar=0.0)
    assert whole.total == pytest.approx(sum(end - start for start, end, _ in reference), abs=0.01)


def test_our_der_agrees_with_pyannote_metrics_on_the_sample(sample: Diarization) -> None:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    reference = read_rttm(FIXTURES / "sample.rttm")
    for collar in (0.0, 0.25):
        ref, hyp = Annotation(), Annotation()
        for i, (start, end, name) in enumerate(reference):
            ref[Segment(start, end), i] = name
        for i, (start, end, name) in enumerate(hypothesis(sample)):
            hyp[Segment(start, end), i] = name
        theirs = DiarizationErrorRate(collar=collar, skip_overlap=False)(ref, hyp, uem=ref.get_timeline().extent())
        ours = diarization_error(reference, hypothesis(sample), collar=collar).der
        assert ours == pytest.approx(theirs, abs=0.002), collar


def test_voices_are_unit_vectors_with_their_talk_time(sample: Diarization) -> None:
    for index, voice in enumerate(sample.voices):
        assert np.linalg.norm(voice.embedding) == pytest.approx(1.0, abs=1e-4)
        talk = sum(t.end - t.start for t in sample.turns[0] if t.speaker == index)
        assert voice.speech_seconds == pytest.approx(talk, abs=0.01)
    # Numbered by first appearance: SPEAKER_00 speaks first.
    assert sample.turns[0][0].speaker == 0
    similarity = float(sample.voices[0].embedding @ sample.voices[1].embedding)
    assert similarity < 0.6


def overlap_regions(turns: list[tuple[float, float, str]]) -> list[tuple[float, float]]:
    return [
        (max(a[0], b[0]), min(a[1], b[1]))
        for i, a in enumerate(turns)
        for b in turns[i + 1 :]
        if a[2] != b[2] and min(a[1], b[1]) > max(a[0], b[0])
    ]


def test_overlapping_speech_gives_overlapping_turns(sample: Diarization) -> None:
    """sample.rttm has 1.89 s where both speak at once (four places): most of it is found, and little else."""
    reference = overlap_regions(read_rttm(FIXTURES / "sample.rttm"))
    found = overlap_regions(hypothesis(sample))
    shared = sum(max(0.0, min(e1, e2) - max(s1, s2)) for s1, e1 in reference for s2, e2 in found)
    assert sum(e - s for s, e in reference) == pytest.approx(1.89, abs=0.01)
    assert shared / sum(e - s for s, e in reference) >= 0.5  # recall
    assert shared / sum(e - s for s, e in found) >= 0.5  # precision


def test_a_single_speaker_is_one_voice(diarizer: Diarizer) -> None:
    result = diarizer.diarize(speech("jfk.flac"))
    assert len(result.voices) == 1
    assert sum(t.end - t.start for t in result.turns[0]) > 7.0  # of 11 s, with pauses


def test_silence_gives_no_speakers_and_no_error(diarizer: Diarizer) -> None:
    result = diarizer.diarize(np.zeros(16_000 * 20, dtype=np.float32))
    assert result.voices == [] and result.turns == [[]]


def test_a_recording_shorter_than_a_window_is_diarized(diarizer: Diarizer) -> None:
    result = diarizer.diarize(speech("jfk.flac")[: 16_000 * 4])
    assert len(result.voices) == 1
    assert all(0 <= t.start < t.end <= 4.0 for t in result.turns[0])


def test_several_recordings_share_one_set_of_speakers(diarizer: Diarizer) -> None:
    """A meeting in two files: the same voice in both gets the same speaker."""
    audio = speech("sample.wav")
    first, second = audio[: 16_000 * 15], audio[16_000 * 15 :]
    result = diarizer.cluster([diarizer.local_speakers(first), diarizer.local_speakers(second)])
    assert len(result.voices) == 2
    assert {t.speaker for t in result.turns[0]} == {t.speaker for t in result.turns[1]} == {0, 1}


def test_a_long_recording_is_read_from_disk_a_batch_of_windows_at_a_time(diarizer: Diarizer, tmp_path: Path) -> None:
    """Memory flat in the meeting's length: segmentation and embeddings read one batch of windows from the decoded
    file at a time, and find on disk what they find in memory."""
    sample = speech("sample.wav")
    # Five minutes are six batches: enough to show the reads stay one batch long (twenty cost four times more).
    audio = mostly_silent(tmp_path / "audio.f32", 5 * 60, {150.0: sample})

    on_disk = diarizer.diarize(audio)

    batch = int(((diarizer.batch_size - 1) * diarizer.step + WINDOW_SECONDS) * SAMPLE_RATE)
    assert audio.num_samples > 6 * batch
    assert max(audio.reads) <= batch  # 45 s, whether the meeting lasts 5 minutes or 10 hours
    in_memory = diarizer.diarize(np.fromfile(audio.path, dtype=np.float32))
    assert len(on_disk.voices) == len(in_memory.voices) == 2
    assert on_disk.turns == in_memory.turns
    assert all(150 <= t.start < t.end <= 150 + len(sample) / SAMPLE_RATE + 0.5 for t in on_disk.turns[0])


def test_every_archive_process_bounds_onednns_kernel_cache() -> None:
    """A kernel per embedding length, up to oneDNN's 1,024, took a dense meeting's diarization hundreds of MiB
    higher (docs/operations/limits.md, Memory): the package bounds the cache before anything runs a network, unless
    the operator chose a size."""
    read = "import archive, os; print(os.environ['ONEDNN_PRIMITIVE_CACHE_CAPACITY'])"
    environ = {k: v for k, v in os.environ.items() if k != "ONEDNN_PRIMITIVE_CACHE_CAPACITY"}
    found = subprocess.run([sys.executable, "-c", read], env=environ, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "64"
    chosen = subprocess.run([sys.executable, "-c", read], env={**environ, "ONEDNN_PRIMITIVE_CACHE_CAPACITY": "8"},
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert chosen.stdout.strip() == "8"
