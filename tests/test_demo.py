"""The bundled demo meeting: rebuilt byte for byte from its script, transcribed well, and searchable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from archive.cli.main import main
from archive.demo.voices import DEMO_DIR
from archive.media.decode import decode_audio
from archive.transcribe.evaluate import normalize, word_error_rate

pytestmark = pytest.mark.slow
KEY_PHRASES = ["fair and impartial policing policy", "grocery store", "here illegally", "back to committee"]


def test_the_demo_is_rebuilt_from_its_script(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(DEMO_DIR / "make_demo.py"), str(tmp_path)], check=True, capture_output=True)
    for name in ("demo-meeting.stm", "demo-meeting.rttm", "meeting.json"):
        assert (tmp_path / name).read_bytes() == (DEMO_DIR / name).read_bytes(), name
    # The audio is the same sound; its bytes may differ where libopus picks other SIMD code on another CPU
    # (on the machine that made it they are identical).
    _, rebuilt = decode_audio(tmp_path / "demo-meeting.ogg")
    _, shipped = decode_audio(DEMO_DIR / "demo-meeting.ogg")
    assert len(rebuilt) == len(shipped)
    noise = np.sqrt(np.mean((rebuilt - shipped) ** 2))
    assert 20 * np.log10(np.sqrt(np.mean(shipped**2)) / max(noise, 1e-12)) > 40  # dB


def test_testimony_demo_transcribes_and_indexes_the_meeting(tmp_path: Path) -> None:
    home = tmp_path / "demo-home"
    runner = CliRunner(env={"TESTIMONY_DATABASE_URL": "", "TESTIMONY_HOME": str(home)})
    result = runner.invoke(main, ["demo", "--home", str(home), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "synthetic re-enactment" in result.stderr
    slug = result.stdout.splitlines()[-1]
    assert slug == "2024-02-07-public-comment-on-the-fair-and-impartial-policing-policy-synthetic-re-enactment"

    script = json.loads((DEMO_DIR / "script.json").read_text(encoding="utf-8"))
    transcript = json.loads(runner.invoke(main, ["export", slug, "--format", "json"]).stdout)
    spoken = " ".join(segment["text"] for segment in transcript["segments"])
    wer = word_error_rate(" ".join(turn["text"] for turn in script), spoken)
    print(f"demo meeting WER (whisper tiny.en): {wer:.3f}")
    assert wer <= 0.10
    for phrase in KEY_PHRASES:
        assert phrase in normalize(spoken), phrase

    # A researcher finds the hot-mic remark by its phrase, and by date, from the terminal.
    found = json.loads(runner.invoke(main, ["search", '"here illegally"', "--from", "2024-02-01", "--json"]).stdout)
    assert found["total"] == 1
    hit = found["results"][0]
    assert hit["meeting"]["slug"] == slug
    # Diarization found the four voices; the demo named them from its script, as a curator would.
    names = {turn["name"] for turn in script}
    assert {speaker["name"] for speaker in transcript["speakers"]} == names
    assert {speaker["attribution"] for speaker in transcript["speakers"]} == {"curator"}
    assert hit["speaker"]["name"] == next(turn["name"] for turn in script if turn["speaker"] == "member")
    remark = next(line for line in (DEMO_DIR / "demo-meeting.stm").read_text().splitlines() if " member " in line)
    remark_start = float(remark.split()[3])
    words = [w for s in transcript["segments"] if s["id"] == hit["segment_id"] for w in s["words"]]
    here = next(w for w in words if normalize(w["word"]) == "here")
    assert abs(here["start"] - remark_start) < 1.5
    assert (
        json.loads(runner.invoke(main, ["search", '"here illegally"', "--to", "2023-12-31", "--json"]).stdout)["total"]
        == 0
    )

    # Running the demo again reuses everything.
    again = runner.invoke(main, ["demo", "--home", str(home), "--no-serve"])
    assert again.exit_code == 0
    assert "already in the archive" in again.stderr
