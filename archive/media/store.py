"""Content-addressed media files: media/ab/abcdef….ext, written once by temp file, fsync and rename."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1024 * 1024


# What browsers need to hear about each stored suffix (the store names files by their decoded container).
MEDIA_TYPES = {
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".ogg": "audio/ogg",
    ".aiff": "audio/aiff",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
}


@dataclass(frozen=True)
class StagedFile:
    """A complete copy of an incoming file under media/.incoming/, hashed, not yet in the store."""

    path: Path
    sha256: str
    size: int
    original_name: str  # the incoming file's base name, kept for people, never used as a path


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        # Staging inside the store keeps the final rename on one file system, so it is atomic.
        self.incoming = self.root / ".incoming"

    def path_for(self, sha256: str, suffix: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}{suffix}"

    def stage(self, source: Path) -> StagedFile:
        """Copy `source` into staging while hashing it; the caller commits or discards the result."""
        digest = hashlib.sha256()
        size = 0
        try:
            fd, temp_name = tempfile.mkstemp(dir=self.incoming, prefix="upload-")
        except FileNotFoundError:  # not made yet, or a discard just removed it empty
            self.incoming.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(dir=self.incoming, prefix="upload-")
        try:
            with open(source, "rb") as src, os.fdopen(fd, "wb") as out:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            os.unlink(temp_name)
            raise
        return StagedFile(Path(temp_name), digest.hexdigest(), size, Path(source).name)

    def commit(self, staged: StagedFile, suffix: str) -> Path:
        """Move a staged file to its content address; if those bytes are already stored, keep the old copy."""
        target = self.path_for(staged.sha256, suffix)
        if target.exists():
            self.discard(staged)
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(staged.path, 0o444)  # media is never modified after it is written
        os.replace(staged.path, target)
        _fsync_directory(target.parent)
        return target

    def discard(self, staged: StagedFile) -> None:
        """Forget a staged file; a refused recording leaves nothing in media/, not even an empty staging folder."""
        staged.path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # another ingest's file is there
            self.incoming.rmdir()

    def clear_incoming(self) -> int:
        """Remove staging leftovers of interrupted ingests; returns how many there were."""
        if not self.incoming.exists():
            return 0
        leftovers = list(self.incoming.iterdir())
        for path in leftovers:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        return len(leftovers)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomically(target: Path, data: bytes) -> None:
    """Write bytes so that readers see either nothing or the whole file, even after a crash."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.chmod(temp_name, 0o644)  # mkstemp's 0600 would hide the file from the web server's account
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
