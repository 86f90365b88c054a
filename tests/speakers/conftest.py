"""The synthetic overlap fixture (tests/fixtures/hotmic), built once per session for the speakers' tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories.media import FIXTURES


@pytest.fixture(scope="session")
def hotmic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The founding case re-created (tests/fixtures/hotmic): mixes, tracks and a two-channel file, with truth."""
    folder = tmp_path_factory.mktemp("hotmic")
    # In a process of its own: espeak-ng's library carries a little state from one utterance to the next, so a
    # recipe is repeatable as a fresh run, whatever else this process synthesised before.
    subprocess.run([sys.executable, str(FIXTURES / "hotmic" / "make_hotmic.py"), str(folder)], check=True)
    return folder
