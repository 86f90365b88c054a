"""The speaker fixtures' recipes: deterministic, and their truth is what the committed files say."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.factories.media import FIXTURES
from tests.fixtures.council.script import meeting_script
from tests.fixtures.synth.mix import read_wav

HOTMIC = FIXTURES / "hotmic"
COUNCIL = FIXTURES / "council"


def test_the_hotmic_recipe_rebuilds_its_committed_truth(hotmic: Path) -> None:
    assert (hotmic / "hotmic.json").read_bytes() == (HOTMIC / "hotmic.json").read_bytes()
    assert (hotmic / "hotmic.rttm").read_bytes() == (HOTMIC / "hotmic.rttm").read_bytes()
    truth = json.loads((HOTMIC / "hotmic.json").read_text())
    overlap = truth["overlap"]
    testimony = truth["voices"]["testimony"]["words"]
    assert testimony[0]["start"] < overlap["start"] < overlap["end"] < testimony[-1]["end"]
    assert " ".join(w["word"] for w in truth["voices"]["remark"]["words"]).startswith("You're fucking here illegally")
    lengths = {
        name: read_wav(hotmic / f"hotmic{name}.wav").shape for name in ("-6db", "-12db", "-testimony", "-remark")
    }
    assert len(set(lengths.values())) == 1  # one time base
    assert read_wav(hotmic / "hotmic-2ch.wav").shape == (*lengths["-6db"], 2)


def test_the_council_script_is_the_committed_transcript() -> None:
    """The hour's text and order come from the seed alone (no audio needed to check them)."""
    committed = [line.split(" ", 5)[2::3] for line in (COUNCIL / "council-s1.stm").read_text().splitlines()]
    written = [[line.speaker, line.text] for line in meeting_script(1, 60)]
    assert sorted(committed) == sorted(written)
    assert len({speaker for speaker, _ in written}) == 12


def test_a_short_council_meeting_has_twelve_voices_overlaps_and_is_repeatable(tmp_path: Path) -> None:
    recipe = [sys.executable, str(COUNCIL / "make_council.py"), "--seed", "11", "--minutes", "1"]
    first = subprocess.run([*recipe, str(tmp_path / "a")], check=True, capture_output=True, text=True).stdout
    again = subprocess.run([*recipe, str(tmp_path / "b")], check=True, capture_output=True, text=True).stdout
    assert first == again
    first = ast.literal_eval(first)
    for suffix in (".rttm", ".stm", ".voices.json"):
        name = first["name"] + suffix
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    turns = [line.split() for line in (tmp_path / "a" / f"{first['name']}.rttm").read_text().splitlines()]
    spans = sorted((float(t[3]), float(t[3]) + float(t[4]), t[7]) for t in turns)
    assert len(Counter(name for _, _, name in spans)) == 12
    assert all(0 < start < end <= first["seconds"] for start, end, _ in spans)
    overlapping = sum(1 for a, b in zip(spans, spans[1:], strict=False) if b[0] < a[1] and a[2] != b[2])
    assert overlapping >= 3  # ayes said together, backchannels, a member starting early
