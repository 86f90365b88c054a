"""Probe and decode untrusted media to 16 kHz mono float32 with PyAV, in a child process with limits.

FFmpeg's decoders are C code fed with files from the public: a crash, a hang or a memory blow-up
must end the child, not the CLI, the worker or the web process. The child decodes frame by frame
and appends samples to a raw float32 file, so its own memory stays small whatever the length.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archive.errors import DecodeFailed, UnsupportedMedia
from archive.media.audio import SAMPLE_RATE, DecodedAudio

MIN_DURATION = 0.5  # seconds; shorter files cannot hold a sentence and are refused
UNSUPPORTED_EXIT = 3  # a child's exit status for a file it refuses (the reason on stdout)

# FFmpeg demuxer name → the suffix the stored file gets (file names from users never become paths).
_SUFFIXES = {"wav": ".wav", "flac": ".flac", "mp3": ".mp3", "ogg": ".ogg", "aac": ".aac", "aiff": ".aiff"}
_WEBM_CODECS = {"vp8", "vp9", "av1", "opus", "vorbis"}


@dataclass(frozen=True)
class MediaInfo:
    container: str
    suffix: str
    duration: float  # seconds of decoded audio
    has_video: bool
    streams: list[dict[str, Any]] = field(default_factory=list)
    created: str | None = None  # the container's creation_time tag (ISO 8601), when it has one


def probe(
    path: Path,
    *,
    name: str | None = None,
    timeout: float = 900,
    memory_mb: int = 4096,
    max_duration: float | None = None,
) -> MediaInfo:
    """Decode the whole file in a child to prove it is a usable recording; return what it holds.

    max_duration: seconds; a longer recording is refused (UnsupportedMedia) by what its header declares, and
    else as soon as decoding passes it (a header can lie), so a long file costs no more than the limit.
    """
    return _run_child(path, None, name=name or str(path), timeout=timeout, memory_mb=memory_mb, limit=max_duration)


@contextmanager
def decoded(
    path: Path,
    *,
    name: str | None = None,
    timeout: float = 900,
    memory_mb: int = 4096,
    max_duration: float | None = None,
) -> Iterator[tuple[MediaInfo, DecodedAudio]]:
    """The file's first audio stream decoded to 16 kHz mono float32 in a temporary file, read a stretch at a time
    while the block runs (archive.media.audio): ingest never holds a whole recording in memory."""
    with tempfile.TemporaryDirectory(prefix="testimony-decode-") as tmp:
        out = Path(tmp) / "audio.f32"
        info = _run_child(path, out, name=name or str(path), timeout=timeout, memory_mb=memory_mb, limit=max_duration)
        yield info, DecodedAudio(out)


def decode_audio(
    path: Path,
    *,
    name: str | None = None,
    timeout: float = 900,
    memory_mb: int = 4096,
    max_duration: float | None = None,
) -> tuple[MediaInfo, np.ndarray]:
    """Return the file's first audio stream as 16 kHz mono float32 samples (at most max_duration seconds), all in
    memory: for clips and tests; a recording of any length goes through `decoded`."""
    with decoded(path, name=name, timeout=timeout, memory_mb=memory_mb, max_duration=max_duration) as (info, audio):
        return info, audio.read(0, audio.num_samples)


def _run_child(
    path: Path, out: Path | None, *, name: str, timeout: float, memory_mb: int, limit: float | None
) -> MediaInfo:
    arguments = [str(path), "-" if out is None else str(out), "0" if limit is None else repr(float(limit))]
    stdout = run_limited("archive.media.decode", arguments, name=name, timeout=timeout, memory_mb=memory_mb)
    return MediaInfo(**json.loads(stdout))


def run_limited(
    module: str,
    arguments: list[str],
    *,
    name: str,
    timeout: float,
    memory_mb: int,
    doing: str = "decoding",
    who: str = "decoder",
) -> bytes:
    """Run `python -m module arguments…` with a timeout and an address-space limit; return its stdout.

    The child's contract: exit 0 on success, exit 3 with a one-line reason on stdout for a file it refuses.
    Every way it can end is turned into UnsupportedMedia or DecodeFailed naming `name`.
    """
    command = [sys.executable, "-m", module, *arguments]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=timeout,
            env=env,
            preexec_fn=lambda: _limit_memory(memory_mb),
        )
    except subprocess.TimeoutExpired:
        raise DecodeFailed(f"{name}: {doing} took longer than {timeout:g} s and was stopped") from None
    if done.returncode == 0:
        return done.stdout
    if done.returncode == UNSUPPORTED_EXIT:
        raise UnsupportedMedia(f"{name}: {done.stdout.decode(errors='replace').strip()}")
    if done.returncode < 0:
        raise DecodeFailed(f"{name}: the {who} crashed ({signal.Signals(-done.returncode).name})")
    last_line = (done.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
    if "MemoryError" in last_line or "memory allocation" in last_line.lower():
        raise DecodeFailed(f"{name}: the {who} ran out of memory (limit {memory_mb} MiB)")
    raise DecodeFailed(f"{name}: the {who} failed ({last_line})")


def _limit_memory(memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


# --- the child -------------------------------------------------------------------------------------


def _suffix_for(format_name: str, codecs: set[str], has_video: bool) -> str:
    names = set(format_name.split(","))
    if "mp4" in names or "mov" in names:
        return ".mp4" if has_video else ".m4a"
    if "matroska" in names:
        return ".webm" if codecs <= _WEBM_CODECS else ".mkv"
    for demuxer, suffix in _SUFFIXES.items():
        if demuxer in names:
            return suffix
    raise _Unsupported(f"not a supported recording format ({format_name})")


class _Unsupported(Exception):
    """Raised in the child: the file is not a usable recording (the message says why)."""


def _decode_in_child(path: Path, out: Path | None, limit: float = 0.0) -> MediaInfo:
    import av  # imported here: only the child process loads FFmpeg

    if path.stat().st_size == 0:
        raise _Unsupported("the file is empty")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as error:
        raise _Unsupported(f"not a readable audio or video file ({_reason(error)})") from None
    with container:
        audio_streams = [s for s in container.streams if s.type == "audio"]
        video_streams = [s for s in container.streams if s.type == "video" and not _is_cover_art(s)]
        streams = [
            {"index": s.index, "type": s.type, "codec": s.codec_context.name if s.codec_context else None}
            for s in container.streams
        ]
        if not audio_streams:
            raise _Unsupported("has no audio stream")
        codecs = {s["codec"] for s in streams if s["codec"]}
        suffix = _suffix_for(container.format.name, codecs, bool(video_streams))
        stream = audio_streams[0]
        declared = _declared_duration(container, stream)
        if limit and declared > limit:
            raise _Unsupported(_too_long(f"{format_duration(declared)} long", limit))
        created = container.metadata.get("creation_time") or stream.metadata.get("creation_time")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        samples = 0
        most = int(limit * SAMPLE_RATE) if limit else None
        with open(out if out is not None else os.devnull, "wb") as sink:
            for frame in _frames(container, stream):
                for chunk in resampler.resample(frame):
                    samples += _write(chunk, sink)
                if most is not None and samples > most:  # the header said less: stop here, not at the end
                    raise _Unsupported(_too_long(f"longer than its header says ({format_duration(declared)})", limit))
            for chunk in resampler.resample(None):
                samples += _write(chunk, sink)
        if most is not None and samples > most:
            raise _Unsupported(_too_long(f"{format_duration(samples / SAMPLE_RATE)} long", limit))
    duration = samples / SAMPLE_RATE
    if duration < MIN_DURATION:
        raise _Unsupported(f"too short to hold speech ({duration:.2f} s of audio; at least {MIN_DURATION} s)")
    return MediaInfo(container.format.name, suffix, round(duration, 3), bool(video_streams), streams, created)


def _declared_duration(container: Any, stream: Any) -> float:
    """What the file says its length is, in seconds (0 when it says nothing)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return 0.0


def _too_long(what: str, limit: float) -> str:
    return f"the recording is {what}; this archive takes at most {format_duration(limit)} (TESTIMONY_MAX_DURATION)"


def format_duration(seconds: float) -> str:
    """2 h 10 min, 45 min, 30 s: a length as people say it."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def _frames(container: Any, stream: Any) -> Iterator[Any]:
    import av

    try:
        yield from container.decode(stream)
    except av.FFmpegError as error:
        raise _Unsupported(f"the audio could not be decoded ({_reason(error)})") from None


def _write(frame: Any, sink: Any) -> int:
    data = frame.to_ndarray().reshape(-1).astype(np.float32, copy=False)
    sink.write(data.tobytes())
    return int(data.shape[0])


def _is_cover_art(stream: Any) -> bool:
    # An MP3 or M4A with an embedded album picture has a one-frame "video" stream.
    return bool(stream.disposition & 0x400) if hasattr(stream, "disposition") else False


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.split(":")[-1].strip() or type(error).__name__


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    out = Path(argv[1]) if len(argv) > 1 and argv[1] != "-" else None
    limit = float(argv[2]) if len(argv) > 2 else 0.0
    try:
        info = _decode_in_child(path, out, limit)
    except _Unsupported as error:
        print(error)
        return UNSUPPORTED_EXIT
    print(json.dumps(asdict(info)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
