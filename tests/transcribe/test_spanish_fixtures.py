"""The Spanish fixtures are what their recipe makes (tests/fixtures/spanish/make_fixtures.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from archive.media.decode import decode_audio
from tests.factories.media import FIXTURES

SPANISH = FIXTURES / "spanish"


def test_the_recipe_rebuilds_the_fixtures(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SPANISH / "make_fixtures.py"), str(tmp_path)], check=True, capture_output=True)
    for name in ("testimony-es", "interpreted-meeting"):
        for suffix in (".stm", ".json"):
            assert (tmp_path / f"{name}{suffix}").read_bytes() == (SPANISH / f"{name}{suffix}").read_bytes(), name
        # The same sound; the bytes may differ where libopus picks other SIMD code on another CPU.
        _, rebuilt = decode_audio(tmp_path / f"{name}.ogg")
        _, shipped = decode_audio(SPANISH / f"{name}.ogg")
        assert len(rebuilt) == len(shipped)
        noise = np.sqrt(np.mean((rebuilt - shipped) ** 2))
        assert 20 * np.log10(np.sqrt(np.mean(shipped**2)) / max(noise, 1e-12)) > 40  # dB


def test_the_truth_is_consistent() -> None:
    meeting = json.loads((SPANISH / "interpreted-meeting.json").read_text(encoding="utf-8"))
    turns = meeting["turns"]
    assert len(turns) >= 6
    assert [t["language"] for t in turns] == ["en", "es", "en", "es", "en", "es", "en", "en"]
    assert {t["speaker"] for t in turns} == {"chair", "testifier", "interpreter"}
    assert all(a["end"] < b["start"] for a, b in zip(turns, turns[1:], strict=False))
    assert turns[0]["start"] > 0 and turns[-1]["end"] < meeting["duration"]
    (testimony,) = json.loads((SPANISH / "testimony-es.json").read_text(encoding="utf-8"))["turns"]
    assert testimony["language"] == "es" and 45 <= testimony["end"] - testimony["start"] <= 60
