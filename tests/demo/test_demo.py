"""The bundled demo meeting: rebuilt byte for byte from its script; and, from the built wheel installed in a fresh
environment away from this checkout, `testimony demo` transcribes it well and makes it searchable."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from archive.demo.voices import DEMO_DIR
from archive.media.decode import decode_audio
from archive.transcribe.evaluate import normalize, word_error_rate

pytestmark = pytest.mark.slow
KEY_PHRASES = ["fair and impartial policing policy", "grocery store", "here illegally", "back to committee"]
ROOT = Path(__file__).resolve().parents[2]
# What only the package's data (not its modules) carries: each must be in the wheel.
PACKAGE_DATA = [
    "archive/demo/demo-meeting.ogg",
    "archive/demo/meeting.json",
    "archive/demo/script.json",
    "archive/db/migrations/env.py",
    "archive/db/migrations/versions/0001_initial_schema.py",
    "archive/data/vt_legislators.csv",
    "archive/web/templates/base.html",
    "archive/web/templates/public/meeting.html",
    "archive/web/templates/admin/dashboard.html",
    "archive/web/templates/partials/speaker.html",
    "archive/web/static/site.css",
    "archive/web/static/fonts/DejaVuSans.ttf",
]


@dataclass(frozen=True)
class Installed:
    """The wheel, and a fresh environment it is installed in, with a folder outside the checkout to run in."""

    wheel: Path
    python: Path
    site_packages: str
    elsewhere: Path

    def testimony(self, *args: str) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("TESTIMONY_") and k != "PYTHONPATH"}
        return subprocess.run(
            [str(self.python.with_name("testimony")), "--home", str(self.elsewhere / "demo-home"), *args],
            cwd=self.elsewhere,
            env={**environment, "TESTIMONY_THREADS": "1"},
            capture_output=True,
            text=True,
            timeout=900,
        )


def _dependencies() -> list[str]:
    """Where this interpreter finds the installed dependencies (not this checkout)."""
    paths = {*site.getsitepackages(), sysconfig.get_paths()["purelib"]}
    paths |= {p for p in sys.path if p.endswith("site-packages")}
    return sorted(p for p in paths if Path(p).is_dir() and Path(p).resolve() != ROOT)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """`pip wheel` of this checkout, installed into a new venv that reuses the installed dependencies through a
    .pth file (offline, no second copy of torch); such paths are plain sys.path entries, so the checkout's own
    editable install is not loaded there."""
    folder = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(folder / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (folder / "dist").glob("testimony_archive-*.whl")
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "dependencies.pth").write_text("\n".join(_dependencies()) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)]
    installed = subprocess.run(pip, capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    yield Installed(wheel, python, purelib, elsewhere)


def test_the_wheel_carries_the_package_data_and_runs_from_its_own_copy(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert [name for name in PACKAGE_DATA if name not in names] == []
    where = subprocess.run(
        [str(installed.python), "-c", "import archive; print(archive.__file__)"],
        cwd=installed.elsewhere,
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(installed.site_packages), where.stdout + where.stderr


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


def test_testimony_demo_from_the_installed_wheel_transcribes_and_indexes_the_meeting(installed: Installed) -> None:
    home = installed.elsewhere / "demo-home"
    result = installed.testimony("demo", "--home", str(home), "--no-serve")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "synthetic re-enactment" in result.stderr
    slug = result.stdout.splitlines()[-1]
    assert slug == "2024-02-07-public-comment-on-the-fair-and-impartial-policing-policy-synthetic-re-enactment"

    script = json.loads((DEMO_DIR / "script.json").read_text(encoding="utf-8"))
    transcript = json.loads(installed.testimony("export", slug, "--format", "json").stdout)
    spoken = " ".join(segment["text"] for segment in transcript["segments"])
    wer = word_error_rate(" ".join(turn["text"] for turn in script), spoken)
    print(f"demo meeting WER (whisper tiny.en): {wer:.3f}")
    assert wer <= 0.10
    for phrase in KEY_PHRASES:
        assert phrase in normalize(spoken), phrase

    # A researcher finds the hot-mic remark by its phrase, and by date, from the terminal.
    found = json.loads(installed.testimony("search", '"here illegally"', "--from", "2024-02-01", "--json").stdout)
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
        json.loads(installed.testimony("search", '"here illegally"', "--to", "2023-12-31", "--json").stdout)["total"]
        == 0
    )

    # Running the demo again reuses everything.
    again = installed.testimony("demo", "--home", str(home), "--no-serve")
    assert again.returncode == 0
    assert "already in the archive" in again.stderr
