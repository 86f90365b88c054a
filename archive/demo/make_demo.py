"""Build the bundled demo meeting: a synthetic re-enactment spoken by espeak-ng voices.

The meeting is *not* a real recording. It is a short scene in the spirit of the Vermont Criminal Justice
Council's 7 February 2024 session (public comment on the Fair and Impartial Policing Policy, a farmworker's
testimony, an off-mic remark from a member's seat, the vote sent back to committee), with fictional first names.

``script.json`` is the truth. Each turn is rendered with ``espeak-ng -w``, resampled to 16 kHz mono, given its
gain and filtering (the off-mic remark is quieter, muffled and roomy), laid out with its pause, mixed with a
constant low room noise from a fixed seed, and encoded as Ogg/Opus. The exact timings go to ``.stm`` and
``.rttm`` files. Running it twice gives byte-identical files (on the same machine and library builds).

    .venv/bin/python archive/demo/make_demo.py [OUTPUT_FOLDER]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).resolve().parent
NAME = "demo-meeting"
RATE = 16_000  # what Whisper wants; Opus encodes it natively (wideband)
BITRATE = 32_000
SEED = 20240207  # the fixed seed of the room noise and the room's echo
LEAD_IN, LEAD_OUT = 1.0, 1.0  # seconds of room tone before the first and after the last turn
SPEECH_DBFS = -20.0  # every voice's active speech level before its gain_db
NOISE_DBFS = -52.0  # RMS of the room noise: audible on headphones, harmless for recognition

MEETING = {
    "body": "Vermont Criminal Justice Council (re-enactment)",
    "title": "Public comment on the Fair and Impartial Policing Policy (synthetic re-enactment)",
    "date": "2024-02-07",
    "source_url": None,
    "note": (
        "Synthetic re-enactment made with espeak-ng voices from archive/demo/script.json; fictional first names; "
        "not a recording of the real meeting and not a transcript of it."
    ),
}


def render_turn(turn: dict, workdir: Path, index: int) -> np.ndarray:
    """One turn as float32 16 kHz mono, trimmed to its speech, with the turn's gain and filtering applied."""
    voice = turn["voice"]
    wav = workdir / f"turn{index:02d}.wav"
    options = ["-v", voice["variant"], "-s", str(voice["speed"]), "-p", str(voice["pitch"])]
    subprocess.run(["espeak-ng", *options, "-w", str(wav), turn["text"]], check=True)
    audio = read_resampled(wav)
    audio = trim(audio)
    # espeak-ng's variants differ in loudness by several dB; bring every voice to one speech level first so that
    # gain_db means "relative to a speaker at the microphone".
    audio = audio * 10 ** ((SPEECH_DBFS - speech_level(audio)) / 20)
    mix = turn["mix"]
    if mix.get("lowpass_hz"):
        # Muffled, as if caught by the room microphone across the table. A shelf rather than a brick wall: the
        # highs are turned down (highs_db), not removed, since without them "here" and "safe" lose their h and s.
        low = np.convolve(audio, lowpass_kernel(mix["lowpass_hz"]), mode="same")
        audio = low + 10 ** (mix.get("highs_db", -60.0) / 20) * (audio - low)
    if mix.get("room"):
        audio = add_room(audio)
    return (audio * 10 ** (mix.get("gain_db", 0.0) / 20)).astype(np.float32)


def read_resampled(path: Path) -> np.ndarray:
    """Decode a file with PyAV into float32 16 kHz mono (FFmpeg's resampler, deterministic for a given build)."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    chunks = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32)


def trim(audio: np.ndarray, margin: float = 0.02) -> np.ndarray:
    """Drop espeak-ng's leading and trailing silence so that a turn's timings are the span of its speech."""
    loud = np.flatnonzero(np.abs(audio) > 0.01 * np.abs(audio).max())
    pad = int(margin * RATE)
    return audio[max(loud[0] - pad, 0) : loud[-1] + pad + 1]


def speech_level(audio: np.ndarray) -> float:
    """Active speech level in dBFS: the mean power of the louder half of the 20 ms frames (skips the gaps)."""
    frames = audio[: len(audio) // 320 * 320].reshape(-1, 320)
    power = np.sort((frames.astype(np.float64) ** 2).mean(axis=1))
    return float(10 * np.log10(power[len(power) // 2 :].mean()))


def lowpass_kernel(cutoff_hz: float, taps: int = 101) -> np.ndarray:
    """A Hamming-windowed sinc low-pass FIR (numpy only; no SciPy needed)."""
    n = np.arange(taps) - (taps - 1) / 2
    kernel = np.sinc(2 * cutoff_hz / RATE * n) * np.hamming(taps)
    return kernel / kernel.sum()


def add_room(audio: np.ndarray) -> np.ndarray:
    """A little reverberation: convolve with 250 ms of exponentially decaying noise (fixed seed).

    The turn grows by the first 125 ms of the echo tail, and its .stm/.rttm span includes it.
    """
    length = int(0.25 * RATE)
    rng = np.random.RandomState(SEED)  # the legacy generator: NumPy keeps its stream fixed across versions
    tail = rng.standard_normal(length) * np.exp(-np.arange(length) / (0.05 * RATE))
    impulse = np.concatenate([[1.0], 0.04 * tail[1:]])
    return np.convolve(audio, impulse)[: len(audio) + length // 2]


def room_noise(samples: int) -> np.ndarray:
    """Constant low, slightly dark room noise (ventilation hiss) from the fixed seed."""
    rng = np.random.RandomState(SEED + 1)  # a different stream from the echo's
    noise = np.convolve(rng.standard_normal(samples), lowpass_kernel(4000), mode="same")
    return noise * (10 ** (NOISE_DBFS / 20) / noise.std())


def encode_opus(audio: np.ndarray, path: Path) -> None:
    """Encode mono float audio as Ogg/Opus at BITRATE, reproducibly."""
    pcm = np.round(np.clip(audio, -1, 1) * 32767).astype(np.int16)
    # The muxer's bitexact flag is what makes two runs byte-identical: without it the Ogg stream serial number is
    # random (it is in every page header) and the OpusTags vendor string carries the libavformat version.
    with av.open(str(path), "w", format="ogg", options={"fflags": "+bitexact"}) as container:
        container.metadata.update({"title": MEETING["title"], "comment": MEETING["note"], "date": MEETING["date"]})
        # application=voip: libopus's tuning for speech intelligibility, which is what this recording is for.
        stream = container.add_stream("libopus", rate=RATE, options={"application": "voip"})
        stream.bit_rate = BITRATE
        stream.layout = "mono"
        step = 960  # 60 ms frames in; the encoder re-frames as it needs
        for start in range(0, len(pcm), step):
            frame = av.AudioFrame.from_ndarray(pcm[None, start : start + step], format="s16", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = RATE, start, Fraction(1, RATE)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def main(argv: list[str]) -> int:
    # An optional output folder (default: this one), so tests can rebuild and compare without touching these.
    out = Path(argv[0]) if argv else HERE
    out.mkdir(parents=True, exist_ok=True)
    if shutil.which("espeak-ng") is None:
        sys.exit("make_demo.py: espeak-ng is not installed (Debian/Ubuntu: apt-get install espeak-ng)")
    turns = json.loads((HERE / "script.json").read_text(encoding="utf-8"))

    pieces, timings, cursor = [np.zeros(int(LEAD_IN * RATE), np.float32)], [], int(LEAD_IN * RATE)
    with tempfile.TemporaryDirectory() as tmp:
        for index, turn in enumerate(turns):
            audio = render_turn(turn, Path(tmp), index)
            timings.append((turn, cursor / RATE, (cursor + len(audio)) / RATE))
            pause = np.zeros(int(round(turn["pause_after"] * RATE)), np.float32)
            pieces += [audio, pause]
            cursor += len(audio) + len(pause)
    pieces.append(np.zeros(int(LEAD_OUT * RATE), np.float32))
    mix = np.concatenate(pieces)
    mix = mix + room_noise(len(mix))

    encode_opus(mix, out / f"{NAME}.ogg")
    stm = [f"{NAME} 1 {t['speaker']} {start:.3f} {end:.3f} {t['text']}" for t, start, end in timings]
    rttm = [
        f"SPEAKER {NAME} 1 {start:.3f} {end - start:.3f} <NA> <NA> {t['speaker']} <NA> <NA>"
        for t, start, end in timings
    ]
    (out / f"{NAME}.stm").write_text("\n".join(stm) + "\n", encoding="utf-8")
    (out / f"{NAME}.rttm").write_text("\n".join(rttm) + "\n", encoding="utf-8")
    (out / "meeting.json").write_text(json.dumps(MEETING, indent=2) + "\n", encoding="utf-8")
    size = (out / f"{NAME}.ogg").stat().st_size
    print(f"{NAME}.ogg: {len(mix) / RATE:.2f} s, {size} bytes, {len(turns)} turns")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
