"""Words to speakers (pure functions and the database), and our DER against pyannote.metrics."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from archive.db.models import Meeting, Segment, Speaker
from archive.speakers.assign import assign_segments, speaker_for, split_words
from archive.speakers.evaluate import diarization_error
from tests.factories.meetings import Line, add_meeting


def word(text: str, start: float, end: float) -> dict[str, object]:
    return {"word": text, "start": start, "end": end, "probability": 0.9}


TURNS = [(0.0, 5.0, 1), (5.2, 9.0, 2)]


def test_a_word_goes_to_the_turn_that_covers_it_most() -> None:
    assert speaker_for(1.0, 1.5, TURNS) == 1
    assert speaker_for(4.8, 5.6, TURNS) == 2  # 0.2 s in the first turn, 0.4 s in the second
    assert speaker_for(9.5, 9.8, TURNS) == 2  # after every turn, but near the last one
    assert speaker_for(20.0, 21.0, TURNS) is None  # nobody near


def test_a_segment_that_spans_a_change_of_speaker_is_split_at_the_change() -> None:
    words = [word("Thank", 3.9, 4.2), word("you.", 4.2, 4.6), word("Next", 5.3, 5.6), word("speaker.", 5.6, 6.1)]
    pieces = split_words(words, TURNS)
    assert [(p.speaker, [w["word"] for w in p.words]) for p in pieces] == [
        (1, ["Thank", "you."]),
        (2, ["Next", "speaker."]),
    ]


def test_a_short_word_between_two_of_another_voice_is_jitter() -> None:
    words = [word("we", 4.0, 4.3), word("the", 5.25, 5.4), word("people", 4.6, 4.9)]
    assert [p.speaker for p in split_words(words, TURNS)] == [1]


def test_unclaimed_words_follow_their_neighbours() -> None:
    words = [word("far", 30.0, 30.2), word("hello", 1.0, 1.4)]
    assert [(p.speaker, len(p.words)) for p in split_words(words, TURNS)] == [(1, 2)]


def test_assign_segments_splits_rows_and_keeps_the_first_id(sessions) -> None:  # type: ignore[no-untyped-def]
    add_meeting(
        sessions,
        "m",
        [
            Line("Thank you. Next speaker.", 3.9, 6.1, speaker="chair", label_only=True),
            Line("I drive to work.", 6.5, 8.0, speaker="rosa", label_only=True),
        ],
        body="Council",
    )
    with sessions() as session, session.begin():
        chair, rosa = session.scalars(select(Speaker).order_by(Speaker.label)).all()
        chair.turns, rosa.turns = [[0.0, 5.0]], [[5.2, 9.0]]
        first = session.scalars(select(Segment).order_by(Segment.start)).first()
        assert first is not None
        first.words = [
            word("Thank", 3.9, 4.2),
            word("you.", 4.2, 4.6),
            word("Next", 5.3, 5.6),
            word("speaker.", 5.6, 6.1),
        ]
        first_id = first.id
        meeting_id = session.scalars(select(Meeting.id)).one()
        assert assign_segments(session, meeting_id) == 1
    with sessions() as session:
        rows = [
            (s.id, s.text, s.start, s.end, s.speaker.label)
            for s in session.scalars(select(Segment).order_by(Segment.start))
        ]
    assert rows[0] == (first_id, "Thank you.", 3.9, 4.6, "SPEAKER_00")
    assert rows[1][1:] == ("Next speaker.", 5.3, 6.1, "SPEAKER_01")
    assert rows[2][1:] == ("I drive to work.", 6.5, 8.0, "SPEAKER_01")


def random_annotation(rng: random.Random, names: str) -> list[tuple[float, float, str]]:
    """Turns with overlap between different speakers only (DER counts a speaker once at a time)."""
    turns, t, previous = [], 0.0, ""
    while t < 60:
        duration = rng.uniform(1.0, 6.0)
        name = rng.choice([n for n in names if n != previous])
        turns.append((round(t, 3), round(t + duration, 3), name))
        t += duration + rng.uniform(-0.4, 1.0)
        previous = name
    return turns


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("collar", [0.0, 0.25, 0.5])
def test_our_der_equals_pyannote_metrics(seed: int, collar: float) -> None:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    rng = random.Random(seed)
    reference, hypothesis = random_annotation(rng, "ABC"), random_annotation(rng, "wxyz")
    ref, hyp = Annotation(), Annotation()
    for i, (start, end, name) in enumerate(reference):
        ref[Segment(start, end), i] = name
    for i, (start, end, name) in enumerate(hypothesis):
        hyp[Segment(start, end), i] = name
    uem = Segment(0.0, max(e for _, e, _ in reference + hypothesis))
    theirs = DiarizationErrorRate(collar=collar, skip_overlap=False)(ref, hyp, uem=uem)
    assert diarization_error(reference, hypothesis, collar).der == pytest.approx(theirs, abs=1e-3)


def test_a_perfect_hypothesis_scores_zero_whatever_the_names() -> None:
    reference = [(0.0, 2.0, "A"), (1.5, 4.0, "B")]
    hypothesis = [(0.0, 2.0, "x"), (1.5, 4.0, "y")]
    assert diarization_error(reference, hypothesis).der == 0.0
    assert diarization_error(reference, []).der == 1.0
