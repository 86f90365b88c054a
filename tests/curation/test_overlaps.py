"""Which lines overlap: lines of different voices at the same time, both kept and each pointing at the other."""

from __future__ import annotations

from archive.curation.overlaps import overlapping_ids


def test_lines_of_two_voices_at_once_point_at_each_other() -> None:
    lines = [
        (1, 24.6, 28.9, 0),
        (2, 28.9, 35.6, 0),  # the testimony…
        (3, 29.7, 32.8, 1),  # …and the remark said over it
        (4, 35.5, 38.6, 0),  # the same voice touching the next line is no overlap
        (5, 38.4, 38.6, 1),  # 0.2 s of another voice: a change of speaker, not an overlap
    ]
    assert overlapping_ids(lines) == {2: [3], 3: [2]}
    assert overlapping_ids([]) == {}
