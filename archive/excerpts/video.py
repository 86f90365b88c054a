"""Captioned video of an excerpt: its quote card with the words appearing as they are said, H.264 + AAC in MP4.

Social sites play video, not audio, so `/excerpts/<slug>/clip.mp4` of an audio-only meeting is this: the card's
header and footer (site, verification, speaker, meeting and body, date) with the quote's words drawn as they
are spoken, a few frames a second (the picture only changes when a word starts), over the excerpt's AAC clip
(archive.media.clips, withheld speech already silent). The audio packets are copied, not encoded again.

Encoding runs in a child process (`python -m archive.excerpts.video SPEC`) under the decoder's timeout and
memory limit, like every other use of FFmpeg. The file is derived data, named by a key over everything that
shows or sounds in it (the card's words, the caption words and their times, the audio clip's own key), never
over the request's Host, and kept under <home>/cache/captioned/.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from archive.excerpts.cards import (
    CARD_VERSION,
    INK,
    SERIF,
    CardText,
    _fit,
    _width,
    card_text,
    draw_card,
    font,
    layout_card,
)
from archive.media.clips import cached, forget_others
from archive.media.decode import UNSUPPORTED_EXIT, _reason, _Unsupported, run_limited

VIDEO_VERSION = 1  # bump when the picture or the encoding changes, so cached videos are made again
FPS = 4  # frames a second: captions appear within a quarter second of their word, at a fraction of the cost
CAPTION_SIZE = 44  # the caption's type size (DejaVu Serif, as the card's quote)
LEADING = round(CAPTION_SIZE * 1.3)
CRF = "30"  # H.264 quality: flat colour and text compress well; 30 keeps the text sharp at 1200×630


@dataclass(frozen=True)
class CaptionWord:
    text: str
    start: float  # seconds from the start of the clip


def caption_words(words: Sequence[Mapping[str, Any]], clip_start: float) -> list[CaptionWord]:
    """The published words of an excerpt (archive.excerpts.manage.quote(...).words), timed from the clip's start."""
    return [CaptionWord(str(w["word"]).strip(), max(0.0, float(w["start"]) - clip_start)) for w in words if w["word"]]


def video_key(text: CardText, words: Sequence[CaptionWord], audio: Path) -> str:
    """Names a video by everything in it; the audio clip's file name is its own content key."""
    material = [VIDEO_VERSION, CARD_VERSION, asdict(text), [[w.text, round(w.start, 3)] for w in words], audio.name]
    return hashlib.sha256(json.dumps(material, ensure_ascii=False).encode("utf-8")).hexdigest()


def video_card_text(document: Mapping[str, Any], site_name: str) -> CardText:
    """The card behind the captions: the excerpt's card without the interpreter's words. Captions are the words
    heard in the clip; the interpretation is said after the excerpt, so it is not in the clip's sound, and its
    page (the link shared with the video) carries it, labelled."""
    text = card_text(document, site_name)  # type: ignore[arg-type]  # an ExcerptDocument, as a mapping
    return replace(text, interpretation="", interpretation_label="")


def excerpt_video(
    cache_dir: Path,
    document: Mapping[str, Any],
    words: Sequence[CaptionWord],
    audio: Path,
    duration: float,
    site_name: str,
    *,
    timeout: float = 900,
    memory_mb: int = 4096,
) -> Path:
    """The cached captioned video of an excerpt over its audio clip `audio` (an M4A of `duration` seconds)."""
    text = video_card_text(document, site_name)
    key = video_key(text, words, audio)
    path = cache_dir / f"{document['slug']}-{key[:20]}.mp4"
    if path.exists():
        return path
    spec = {
        "card": asdict(text),
        "words": [[w.text, w.start] for w in words],
        "audio": str(audio),
        "duration": duration,
        "tags": {"title": str(document["title"]), "date": str(document["meeting"]["date"])},
    }

    def build(temp: Path) -> None:
        run_limited(
            "archive.excerpts.video",
            [json.dumps(dict(spec, target=str(temp)))],
            name=f"excerpt {document['slug']}",
            timeout=timeout,
            memory_mb=memory_mb,
            doing="making the captioned video",
            who="video encoder",
        )

    cached(path, build)
    forget_others(path, f"{document['slug']}-")
    return path


# --- the picture ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frames:
    """The card without its quote, the box the captions fill, and the captions' pages of rows of word indexes."""

    base: Image.Image
    box: tuple[float, float, float, float]  # left, top, right, bottom
    pages: list[list[list[int]]]
    words: list[CaptionWord]

    def state(self, time: float) -> tuple[int, int]:
        """(page, words shown) at `time`: the page of the last word begun, and how many words have begun."""
        spoken = sum(1 for w in self.words if w.start <= time)
        if spoken == 0:
            return 0, 0
        last = spoken - 1
        page = next(i for i, rows in enumerate(self.pages) if any(last in row for row in rows))
        return page, spoken

    def draw(self, page: int, spoken: int) -> Image.Image:
        image = self.base.copy()
        if not self.pages:
            return image
        draw = ImageDraw.Draw(image)
        face = font(SERIF, CAPTION_SIZE)
        rows = self.pages[page]
        left, top, _, bottom = self.box
        y = top + max(0, (bottom - top - len(rows) * LEADING) // 2)
        for row in rows:
            shown = [self.words[i].text for i in row if i < spoken]
            if shown:
                draw.text((left, y), " ".join(shown), font=face, fill=INK, anchor="la")
            y += LEADING
        return image


def plan_frames(card: CardText, words: Sequence[CaptionWord]) -> Frames:
    layout = layout_card(replace(card, quote=""))
    base = draw_card(replace(layout, lines=tuple(line for line in layout.lines if line.font != SERIF)))
    speaker_top = min(line.y for line in layout.lines if line.size == 30)
    box = (float(layout.rule[0]), layout.rule[3] + 35.0, float(layout.rule[2]), speaker_top - 34.0)
    face = font(SERIF, CAPTION_SIZE)
    width = box[2] - box[0]
    shown = [
        replace(w, text=w.text if _width(face, w.text) <= width else _fit(w.text, SERIF, CAPTION_SIZE, width))
        for w in words
    ]
    rows: list[list[int]] = []
    line = ""
    for index, word in enumerate(shown):
        candidate = f"{line} {word.text}" if line else word.text
        if rows and line and _width(face, candidate) <= width:
            rows[-1].append(index)
            line = candidate
        else:
            rows.append([index])
            line = word.text
    per_page = max(1, int((box[3] - box[1]) // LEADING))
    pages = [rows[i : i + per_page] for i in range(0, len(rows), per_page)]
    return Frames(base, box, pages, shown)


# --- the child ----------------------------------------------------------------------------------------------------


def _encode_in_child(spec: dict[str, Any]) -> dict[str, Any]:
    import av  # imported here: only child processes load FFmpeg

    frames = plan_frames(CardText(**spec["card"]), [CaptionWord(text, start) for text, start in spec["words"]])
    duration = float(spec["duration"])
    count = max(1, round(duration * FPS))
    try:
        source = av.open(spec["audio"])
    except (av.FFmpegError, ValueError) as error:
        raise _Unsupported(f"the excerpt's audio clip could not be read ({_reason(error)})") from None
    with source, av.open(spec["target"], "w", format="mp4") as out:
        out.metadata.update(spec["tags"])
        audio_in = next(s for s in source.streams if s.type == "audio")
        audio_out = out.add_stream_from_template(audio_in)
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = frames.base.width, frames.base.height, "yuv420p"
        video.options = {"preset": "veryfast", "crf": CRF, "tune": "stillimage"}
        made: dict[tuple[int, int], Any] = {}
        for index in range(count):
            # A frame shows what has been said by its middle: captions are at most half a frame early or late.
            state = frames.state((index + 0.5) / FPS)
            if state not in made:
                made.clear()  # states only move forward: keep one converted picture
                made[state] = av.VideoFrame.from_image(frames.draw(*state)).reformat(format="yuv420p")
            picture = made[state]
            picture.pts = index
            picture.time_base = Fraction(1, FPS)
            out.mux(video.encode(picture))
        out.mux(video.encode(None))
        for packet in source.demux(audio_in):
            if packet.dts is None:
                continue
            packet.stream = audio_out
            out.mux(packet)
    return {"frames": count, "seconds": round(count / FPS, 3), "pages": len(frames.pages)}


def main(argv: list[str]) -> int:
    try:
        report = _encode_in_child(json.loads(argv[0]))
    except _Unsupported as error:
        print(error)
        return UNSUPPORTED_EXIT
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
