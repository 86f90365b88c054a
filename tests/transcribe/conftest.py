"""The glossary fixtures' testimony (tests/fixtures/glossary), built once per session: WAV is not committed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories.media import FIXTURES


@pytest.fixture(scope="session")
def glossary_testimony(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """glossary-testimony.wav (with its truth) in a folder of its own; a fresh process, as espeak-ng wants."""
    folder = tmp_path_factory.mktemp("glossary")
    subprocess.run([sys.executable, str(FIXTURES / "glossary" / "make_glossary.py"), str(folder)], check=True)
    return folder / "glossary-testimony.wav"
