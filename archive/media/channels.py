"""A multi-channel recording split into one mono FLAC file per channel (a mixer's channel per microphone), in a
child process with the decoder's limits: each channel becomes one of the meeting's tracks (archive.ingest.tracks).

The channels keep the file's sample rate and are lossless, so nothing is lost that the stored tracks could hold.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from archive.media.decode import UNSUPPORTED_EXIT, run_limited

MAX_CHANNELS = 32


def split_channels(path: Path, folder: Path, *, name: str, timeout: float, memory_mb: int) -> list[Path]:
    """Write `folder`/channel-1.flac, channel-2.flac, … from the file's first audio stream; returns them in order.

    A file with one channel is refused: it has nothing to split (ingest it as it is)."""
    stdout = run_limited(
        "archive.media.channels",
        [str(path), str(folder)],
        name=name,
        timeout=timeout,
        memory_mb=memory_mb,
        doing="splitting the channels",
    )
    return [Path(p) for p in json.loads(stdout)["channels"]]


class _Refused(Exception):
    """A file the child process will not split, with the reason it sends back to the parent."""


def _split_in_child(path: Path, folder: Path) -> list[Path]:
    import av

    try:
        source = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as error:
        raise _Refused(f"not a readable audio or video file ({error})") from None
    with source:
        streams = [s for s in source.streams if s.type == "audio"]
        if not streams:
            raise _Refused("has no audio stream")
        stream = streams[0]
        channels = stream.codec_context.channels
        if channels < 2:
            raise _Refused("has one channel: there is nothing to split (ingest it without --split-channels)")
        if channels > MAX_CHANNELS:
            raise _Refused(f"has {channels} channels; at most {MAX_CHANNELS} can be split")
        rate = stream.codec_context.sample_rate or 16_000
        resampler = av.AudioResampler(format="s16p", layout=stream.layout.name, rate=rate)
        paths = [folder / f"channel-{n + 1}.flac" for n in range(channels)]
        outputs: list[Any] = [av.open(str(p), "w", format="flac") for p in paths]
        encoders = [out.add_stream("flac", rate=rate, layout="mono") for out in outputs]
        try:
            for frame in _frames(source, stream):
                for chunk in resampler.resample(frame):
                    _write(chunk, outputs, encoders, rate)
            for chunk in resampler.resample(None):
                _write(chunk, outputs, encoders, rate)
            for out, encoder in zip(outputs, encoders, strict=True):
                for packet in encoder.encode(None):
                    out.mux(packet)
        finally:
            for out in outputs:
                out.close()
    return paths


def _frames(source: Any, stream: Any) -> Any:
    import av

    try:
        yield from source.decode(stream)
    except av.FFmpegError as error:
        raise _Refused(f"the audio could not be decoded ({error})") from None


def _write(chunk: Any, outputs: list[Any], encoders: list[Any], rate: int) -> None:
    import av

    planes = chunk.to_ndarray()  # (channels, samples), planar 16-bit
    for n, (out, encoder) in enumerate(zip(outputs, encoders, strict=True)):
        mono = av.AudioFrame.from_ndarray(planes[n : n + 1].copy(), format="s16p", layout="mono")
        mono.sample_rate = rate
        mono.pts = None
        for packet in encoder.encode(mono):
            out.mux(packet)


def main(argv: list[str]) -> int:
    try:
        paths = _split_in_child(Path(argv[0]), Path(argv[1]))
    except _Refused as error:
        print(error)
        return UNSUPPORTED_EXIT
    print(json.dumps({"channels": [str(p) for p in paths]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
