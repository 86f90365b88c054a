"""Find and load Whisper models: an explicit path, an installed model package, then the engine's cache or download."""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from archive.errors import ModelUnavailable
from archive.media.store import sha256_of
from archive.transcribe.packages import SPLIT_MODELS, install_hint, packaged_folder

# One quick request decides whether a download is worth trying; without it a machine whose network drops
# packets would wait minutes on the libraries' own timeouts before saying the model is missing.
PROBE_SECONDS = 3.0

# Loaded models by (engine, resolved path, threads): a process loads each model once.
_LOADED: dict[tuple[str, str, int], Any] = {}
_LOCK = threading.Lock()


def resolve_faster_whisper_model(model: str, model_path: str | None, cache_dir: Path) -> str:
    """A local CTranslate2 folder for `model`; downloads only when online, not cached and not a packaged model."""
    if model_path:
        return str(_ct2_folder(Path(model_path)))
    if packaged := packaged_folder(model, cache_dir):
        return str(packaged)
    from faster_whisper.utils import download_model
    from huggingface_hub import constants as hub

    try:
        # The snapshot folder rather than the name: WhisperModel(name) would ask the Hub for updates first.
        return download_model(model, local_files_only=True)
    except ValueError:  # neither a size faster-whisper knows nor a Hub repository id
        raise ModelUnavailable(_missing(model, "faster-whisper", "unknown to faster-whisper")) from None
    except OSError:  # LocalEntryNotFoundError: not in the Hugging Face cache
        pass
    if model not in SPLIT_MODELS and not hub.HF_HUB_OFFLINE and _online(hub.ENDPOINT):
        try:
            return download_model(model)
        except Exception as error:  # the Hub's errors have no common base; any failure means no model
            raise ModelUnavailable(f"Whisper model {model!r} could not be downloaded: {error}") from None
    raise ModelUnavailable(_missing(model, "faster-whisper"))


def resolve_whisper_checkpoint(model: str, model_path: str | None, cache_dir: Path) -> Path:
    """A local openai-whisper checkpoint for `model`; CTranslate2 folders are converted once into `cache_dir`."""
    if model_path:
        path = Path(model_path)
        if path.is_dir():
            return _converted(model, path, cache_dir)
        if not path.is_file():
            raise ModelUnavailable(f"--model-path {model_path} does not exist")
        return path
    if packaged := packaged_folder(model, cache_dir):
        return _converted(model, packaged, cache_dir)
    import whisper
    from huggingface_hub import constants as hub

    url = whisper._MODELS.get(model)
    if url is None:
        raise ModelUnavailable(_missing(model, "whisper", "unknown to openai-whisper"))
    target = _whisper_cache() / os.path.basename(url)
    if target.is_file() and sha256_of(target) == url.split("/")[-2]:  # the URL names the file's SHA-256
        return target
    # HF_HUB_OFFLINE is the usual "no downloads" switch of these tools; it holds for both engines. A model that
    # ships as a package comes from its package only: a missing package is a thing to install, not to fetch.
    if model not in SPLIT_MODELS and not hub.HF_HUB_OFFLINE and _online(url):
        try:
            return Path(whisper._download(url, str(target.parent), False))
        except (OSError, RuntimeError) as error:
            raise ModelUnavailable(f"Whisper model {model!r} could not be downloaded: {error}") from None
    raise ModelUnavailable(_missing(model, "whisper"))


def load_whisper_model(model: str, model_path: str | None, cache_dir: Path, threads: int) -> Any:
    """An openai-whisper model on the CPU, with its word-alignment heads (loaded once per process)."""
    import torch
    import whisper

    torch.set_num_threads(threads)
    path = resolve_whisper_checkpoint(model, model_path, cache_dir)
    key = ("whisper", str(path), threads)
    with _LOCK:
        if key not in _LOADED:
            try:
                loaded = whisper.load_model(str(path), device="cpu")
            except Exception as error:  # torch.load and load_state_dict fail in many ways on a foreign file
                raise ModelUnavailable(f"{path} is not a Whisper checkpoint: {error}") from None
            # load_model(path) keeps whisper's default heads (the decoder's second half); timestamps are
            # better with the model's own: those stored by the converter, or OpenAI's for its downloads.
            heads = _stored_alignment_heads(path)
            url = whisper._MODELS.get(model)
            if heads is None and url and path == _whisper_cache() / os.path.basename(url):
                heads = whisper._ALIGNMENT_HEADS[model]
            if heads is not None:
                loaded.set_alignment_heads(heads)
            _LOADED[key] = loaded
        return _LOADED[key]


def load_faster_whisper_model(model: str, model_path: str | None, cache_dir: Path, threads: int) -> Any:
    """A faster-whisper model on the CPU, int8 (loaded once per process)."""
    from faster_whisper import WhisperModel

    from archive.transcribe.features import BlockwiseFeatures

    path = resolve_faster_whisper_model(model, model_path, cache_dir)
    key = ("faster-whisper", path, threads)
    with _LOCK:
        if key not in _LOADED:
            try:
                loaded = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=threads)
            except (RuntimeError, ValueError, OSError) as error:
                raise ModelUnavailable(f"{path} is not a loadable CTranslate2 Whisper model: {error}") from None
            loaded.feature_extractor = BlockwiseFeatures(**loaded.feat_kwargs)  # a window's spectrogram in blocks
            _LOADED[key] = loaded
        return _LOADED[key]


def _converted(model: str, ct2_dir: Path, cache_dir: Path) -> Path:
    # Named by the weights' digest, so a changed model.bin gets a new checkpoint and an old one is never reused.
    digest = sha256_of(_ct2_folder(ct2_dir) / "model.bin")[:12]
    path = cache_dir / "whisper" / f"{model.replace('/', '--')}-{digest}.pt"
    if path.is_file():
        return path
    from archive.transcribe.convert import convert_ct2_to_whisper  # torch: only when a checkpoint is to be made

    return convert_ct2_to_whisper(ct2_dir, path)


def _ct2_folder(folder: Path) -> Path:
    if not (folder / "model.bin").is_file():
        raise ModelUnavailable(f"{folder} is not a CTranslate2 Whisper model folder (no model.bin)")
    return folder


def _stored_alignment_heads(path: Path) -> bytes | None:
    import torch

    try:  # mmap: only the small pickle is read, not the weights
        heads = torch.load(path, map_location="cpu", weights_only=True, mmap=True).get("alignment_heads")
    except Exception:  # an older checkpoint format cannot be mapped; it has no stored heads either
        return None
    return heads if isinstance(heads, bytes) else None


def _whisper_cache() -> Path:
    # The folder whisper.load_model(name) downloads into, by the same rule.
    return Path(os.getenv("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))) / "whisper"


def _online(url: str) -> bool:
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=PROBE_SECONDS).close()
    except urllib.error.HTTPError:
        return True  # the server answered, even if not with 200
    except (OSError, ValueError):
        return False  # no route, no DNS, refused, timed out
    return True


def _missing(model: str, engine: str, why: str = "not available offline") -> str:
    path = "a .pt checkpoint or a CTranslate2 folder" if engine == "whisper" else "a CTranslate2 folder"
    if model in SPLIT_MODELS or model == "tiny.en":
        return f"Whisper model {model!r} is {why}: `{install_hint(model)}`, or pass --model-path ({path})"
    packaged = f"`{install_hint('tiny.en')}` for tiny.en, `{install_hint('base')}` for base (multilingual)"
    return f"Whisper model {model!r} is {why}: pass --model-path ({path}), or use a packaged model: {packaged}"
