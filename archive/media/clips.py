"""Audio (and video) clips cut from a recording: a few seconds around an excerpt, faded, tagged, cached.

Cutting decodes untrusted media, so it runs in a child process (`python -m archive.media.clips SPEC`) under
the decoder's timeout and memory limit (archive.media.decode.run_limited). The child seeks to just before the
span, so a clip at 2:50:00 of a three-hour file costs a few seconds of decoding, not three hours.

Clips are derived data: files under <home>/cache/clips/ named by a key over everything that shows in them
(recording, span, tags, format), so an edited excerpt or a renamed speaker gets a new file, and the folder
can be deleted at any time.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from archive.media.decode import UNSUPPORTED_EXIT, _is_cover_art, _reason, _Unsupported, run_limited

PAD = 0.25  # seconds of recording kept on each side of the words, so the first and last syllables are whole
FADE = 0.05  # seconds of fade in and out: no click where the cut falls on sound
SEEK_MARGIN = 2.0  # seek this far before the clip: seeking lands on a packet (or key frame) at or before it
CLIP_VERSION = 1  # bump when the encoding changes, so cached clips are made again


@dataclass(frozen=True)
class ClipFormat:
    suffix: str
    container: str  # FFmpeg muxer
    codec: str
    rate: int
    bit_rate: int
    media_type: str
    video: bool = False


FORMATS = {
    "m4a": ClipFormat(".m4a", "mp4", "aac", 44_100, 96_000, "audio/mp4"),
    "mp3": ClipFormat(".mp3", "mp3", "libmp3lame", 44_100, 96_000, "audio/mpeg"),
    "ogg": ClipFormat(".ogg", "ogg", "libopus", 48_000, 48_000, "audio/ogg"),
    "mp4": ClipFormat(".mp4", "mp4", "aac", 44_100, 96_000, "video/mp4", video=True),
}
MAX_VIDEO_HEIGHT = 720  # a clip to share, not an archival copy


def clip_span(start: float, end: float, duration: float, pad: float = PAD) -> tuple[float, float]:
    """The clip's span in file time: the words' span with a pad each side, kept within the file."""
    return max(0.0, start - pad), min(duration, end + pad)


def clip_tags(document: Mapping[str, Any], site_url: str) -> dict[str, str]:
    """Metadata for an excerpt's clip: title, speaker(s) as artist, meeting as album, date, where it is from.

    site_url: the configured public address, or "" (then the comment names no address of this site). Never the
    request's Host: the tags are part of the clip's cache key, so a Host header would cut a new clip each time.
    """
    meeting = document["meeting"]
    names = [s["name"] for s in document["speakers"] if s.get("name")]
    if site_url:
        source = meeting["source_url"] or f"{site_url}/meetings/{meeting['slug']}"
        comment = f"{site_url}{document['url']} ({meeting['body']}; recording: {source})"
    else:
        comment = meeting["body"] + (f"; recording: {meeting['source_url']}" if meeting["source_url"] else "")
    tags = {
        "title": document["title"],
        "artist": ", ".join(names),
        "album": meeting["title"],
        "date": meeting["date"],
        "comment": comment,
    }
    return {name: value for name, value in tags.items() if value}


def clip_key(
    sha256: str, start: float, end: float, fmt: str, tags: dict[str, str], silence: Sequence[tuple[float, float]] = ()
) -> str:
    """Names a clip by everything that shows in it: a change of any of these (a new redaction too) is a new file."""
    parts: list[Any] = [CLIP_VERSION, sha256, round(start, 3), round(end, 3), fmt, sorted(tags.items())]
    if silence:  # only then, so clips cut before redactions existed keep their names
        parts.append([[round(a, 3), round(b, 3)] for a, b in silence])
    material = json.dumps(parts, ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def cut_clip(
    source: Path,
    target: Path,
    *,
    start: float,
    end: float,
    fmt: str,
    tags: dict[str, str],
    silence: Sequence[tuple[float, float]] = (),
    name: str | None = None,
    timeout: float = 900,
    memory_mb: int = 4096,
) -> dict[str, Any]:
    """Cut [start, end] seconds of `source` into `target` in a child process; returns what the child reports.

    `silence`: spans in seconds of file time whose samples are zeroed (redactions, archive.privacy).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown clip format {fmt!r}")
    spec = {
        "source": str(source),
        "target": str(target),
        "start": start,
        "end": end,
        "format": fmt,
        "tags": tags,
        "silence": [[a - start, b - start] for a, b in silence if b > start and a < end],
    }
    stdout = run_limited(
        "archive.media.clips",
        [json.dumps(spec)],
        name=name or str(source),
        timeout=timeout,
        memory_mb=memory_mb,
        doing="cutting the clip",
        who="clip cutter",
    )
    return dict(json.loads(stdout))


def cached(path: Path, build: Callable[[Path], object]) -> Path:
    """`path`, built once by `build(temporary_path)` if missing: under a lock, landed by fsync and rename.

    Concurrent first requests wait for the one that builds; a reader never sees a partial file, and a crash
    leaves at most a stray temporary file (the cache is derived data, safe to delete).
    """
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if path.exists():  # made while we waited
                return path
            fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
            os.close(fd)
            temp = Path(temp_name)
            try:
                build(temp)
                os.chmod(temp, 0o644)
                with open(temp, "rb") as written:
                    os.fsync(written.fileno())
                os.replace(temp, path)
            finally:
                temp.unlink(missing_ok=True)
            directory = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    Path(lock.name).unlink(missing_ok=True)
    return path


def forget_others(path: Path, prefix: str, *, older_than: float = 60.0) -> None:
    """Remove earlier versions (same prefix, another key) once a new one exists.

    Only those untouched for a minute: a request for the previous version may be sending it right now.
    """
    now = time.time()
    for other in path.parent.glob(f"{prefix}*{path.suffix}"):
        try:
            if other != path and now - other.stat().st_mtime > older_than:
                other.unlink(missing_ok=True)
        except FileNotFoundError:
            continue


def excerpt_clip(
    cache_dir: Path,
    document: Mapping[str, Any],
    source: Path,
    duration: float,
    fmt: str,
    tags: dict[str, str],
    *,
    silence: Sequence[tuple[float, float]] = (),
    timeout: float = 900,
    memory_mb: int = 4096,
) -> Path:
    """The cached clip of an excerpt (its document from archive.excerpts.manage.excerpt_document) in one format.

    `silence`: spans of the meeting's timeline withheld from public audio (archive.privacy.silenced_ranges).
    """
    offset = document["recording"]["offset"]
    start, end = clip_span(document["start"] - offset, document["end"] - offset, duration)
    silence = [(a - offset, b - offset) for a, b in silence if b - offset > start and a - offset < end]
    key = clip_key(document["recording"]["sha256"], start, end, fmt, tags, silence)
    path = cache_dir / f"{document['slug']}-{key[:20]}{FORMATS[fmt].suffix}"
    if path.exists():
        return path

    def build(temp: Path) -> None:
        cut_clip(
            source,
            temp,
            start=start,
            end=end,
            fmt=fmt,
            tags=tags,
            silence=silence,
            name=f"excerpt {document['slug']}",
            timeout=timeout,
            memory_mb=memory_mb,
        )

    cached(path, build)
    forget_others(path, f"{document['slug']}-")
    return path


# --- the child -------------------------------------------------------------------------------------


def _cut_in_child(spec: dict[str, Any]) -> dict[str, Any]:
    import av  # imported here: only the child process loads FFmpeg

    fmt = FORMATS[spec["format"]]
    start, end = float(spec["start"]), float(spec["end"])
    try:
        container = av.open(spec["source"], metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as error:
        raise _Unsupported(f"not a readable audio or video file ({_reason(error)})") from None
    with container:
        audio_in = next((s for s in container.streams if s.type == "audio"), None)
        video_in = next((s for s in container.streams if s.type == "video" and not _is_cover_art(s)), None)
        if audio_in is None:
            raise _Unsupported("has no audio stream")
        if fmt.video and video_in is None:
            raise _Unsupported("has no video stream")
        # Transcripts count time from the first decoded sample (decode.py), so here too: an MP3's first frame
        # may carry a time after 0 (its encoder delay), which would otherwise shift the cut.
        zero = float(audio_in.start_time * audio_in.time_base) if audio_in.start_time is not None else 0.0
        start, end = start + zero, end + zero
        if start > SEEK_MARGIN:
            # In AV_TIME_BASE units, on the default stream: lands on a packet (a key frame) at or before.
            container.seek(int((start - SEEK_MARGIN) * av.time_base), backward=True)
        with av.open(spec["target"], "w", format=fmt.container) as out:
            out.metadata.update(spec["tags"])
            audio_out = out.add_stream(fmt.codec, rate=fmt.rate, layout="mono")
            audio_out.bit_rate = fmt.bit_rate
            audio_out.metadata.update(spec["tags"])  # Ogg keeps its comments on the stream
            audio = _AudioCut(audio_out, start, end, spec.get("silence") or [])
            video = _VideoCut(out, video_in, start, end) if fmt.video and video_in is not None else None
            streams = [audio_in] + ([video_in] if video is not None else [])
            resampler = av.AudioResampler(format="flt", layout="mono", rate=fmt.rate)
            try:
                for packet in container.demux(streams):
                    if audio.done and (video is None or video.done):
                        break
                    for frame in packet.decode():
                        if packet.stream.type == "audio":
                            if not audio.done:
                                audio.add(frame, resampler.resample(frame), out)
                        elif video is not None:
                            video.add(frame)
            except av.FFmpegError as error:
                raise _Unsupported(f"the recording could not be decoded ({_reason(error)})") from None
            if not audio.done:
                audio.add(None, resampler.resample(None), out)
            audio.finish(out)
            if video is not None:
                video.finish()
    return {"duration": round(audio.written / fmt.rate, 3), "video": video is not None}


class _AudioCut:
    """Keeps the samples of [start, end), fades their ends and encodes them as they come."""

    def __init__(self, stream: Any, start: float, end: float, silence: list[list[float]]) -> None:
        self.stream = stream
        self.rate = stream.codec_context.sample_rate
        # Withheld spans, in clip samples: zeroed before encoding, so the words never reach the file.
        self.silence = [(round(a * self.rate), round(b * self.rate)) for a, b in silence]
        self.start, self.end = start, end
        self.total = max(0, round((end - start) * self.rate))  # samples in the clip
        self.fade = max(1, round(FADE * self.rate))
        self.clock: float | None = None  # the time of the next resampled sample
        self.written = 0
        self.done = False

    def add(self, frame: Any, chunks: Any, out: Any) -> None:
        if self.clock is None:
            if frame is None:
                return
            # The first decoded frame's time (after a seek, somewhere before the start); from there on the
            # resampled samples are counted, which also covers files whose frames carry no time stamps.
            self.clock = float(frame.time) if frame.time is not None else 0.0
        for chunk in chunks:
            samples = chunk.to_ndarray().reshape(-1).astype(np.float32, copy=False)
            first = round((self.clock - self.start) * self.rate)  # the chunk's first sample, in clip samples
            self.clock += len(samples) / self.rate
            lo = max(self.written, first)  # a sample before the clip (or already written) is skipped
            hi = min(self.total, first + len(samples))
            if hi > lo:
                self._encode(samples[lo - first : hi - first].copy(), lo, out)
            if first + len(samples) >= self.total:
                self.done = True
                return

    def _encode(self, samples: np.ndarray, position: int, out: Any) -> None:
        import av

        if position > self.written:  # the file began after the clip's start: silence keeps the timing
            self._encode(np.zeros(position - self.written, dtype=np.float32), self.written, out)
        index = np.arange(position, position + len(samples), dtype=np.float64)
        gain = np.minimum(1.0, np.minimum(index / self.fade, (self.total - index) / self.fade))
        samples = (samples * np.clip(gain, 0.0, 1.0)).astype(np.float32)
        for lo, hi in self.silence:
            samples[max(0, lo - position) : max(0, min(len(samples), hi - position))] = 0.0
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = self.rate
        frame.pts = position
        frame.time_base = Fraction(1, self.rate)
        out.mux(self.stream.encode(frame))
        self.written = position + len(samples)

    def finish(self, out: Any) -> None:
        out.mux(self.stream.encode(None))


class _VideoCut:
    """Re-encodes the frames of [start, end) as H.264 at the source's frame rate, at most 720 lines high."""

    def __init__(self, out: Any, source: Any, start: float, end: float) -> None:
        rate = source.average_rate or Fraction(25)
        if rate > 60 or rate < 1:
            rate = Fraction(25)
        self.rate = Fraction(rate).limit_denominator(1001)
        height = min(MAX_VIDEO_HEIGHT, source.codec_context.height or MAX_VIDEO_HEIGHT)
        width = (source.codec_context.width or 1280) * height // (source.codec_context.height or height)
        self.width, self.height = max(2, width // 2 * 2), max(2, height // 2 * 2)
        self.stream = out.add_stream("libx264", rate=self.rate)
        self.stream.width, self.stream.height, self.stream.pix_fmt = self.width, self.height, "yuv420p"
        self.stream.options = {"preset": "veryfast", "crf": "26"}
        self.out = out
        self.start, self.end = start, end
        self.next_pts = 0
        self.done = False

    def add(self, frame: Any) -> None:
        if frame.time is None:
            return
        if frame.time >= self.end:
            self.done = True
            return
        pts = round((frame.time - self.start) * self.rate)
        if pts < self.next_pts:  # before the clip, or a duplicate
            return
        image = frame.reformat(width=self.width, height=self.height, format="yuv420p")
        image.pts = pts
        image.time_base = 1 / self.rate
        self.out.mux(self.stream.encode(image))
        self.next_pts = pts + 1

    def finish(self) -> None:
        self.out.mux(self.stream.encode(None))


def main(argv: list[str]) -> int:
    try:
        report = _cut_in_child(json.loads(argv[0]))
    except _Unsupported as error:
        print(error)
        return UNSUPPORTED_EXIT
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
