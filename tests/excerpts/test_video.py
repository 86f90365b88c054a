"""The captioned video: served as MP4 (H.264 + AAC), decoded back, its captions on screen when their words begin."""

from __future__ import annotations

import hashlib
import io
import time

import av
import numpy as np
import pytest
from sqlalchemy import select

from archive.db.models import Recording, Segment
from archive.excerpts.cards import card_text
from archive.excerpts.manage import create_excerpt, excerpt_document, find_excerpt
from archive.excerpts.video import FPS, caption_words, plan_frames
from archive.media.clips import PAD
from archive.media.store import MediaStore
from tests.factories.media import encode, speech
from tests.factories.meetings import Line, add_meeting, timed

SLUG = "2024-02-07-council"
WORDS = "And so my fellow Americans ask not what your country can do for you"
TITLE = "Regular meeting of the Joint Committee on Justice Oversight and Corrections, continued " * 2

pytestmark = pytest.mark.parametrize("database_url", [""])  # SQLite: the picture, not the dialect, is under test


@pytest.fixture
def spoken(sessions, settings):  # type: ignore[no-untyped-def]
    """A meeting whose one recording is real speech (jfk.flac, 11 s) and whose words are 0.5 s apart from 1 s."""
    add_meeting(sessions, SLUG, [Line(WORDS, 1.0, 8.0, speaker="Deputy Dan", role="member")], title=TITLE)
    with sessions() as session, session.begin():
        segment = session.scalars(select(Segment)).one()
        segment.words = timed(WORDS, 1.0)
        session.scalars(select(Recording)).one().duration = 11.0
    target = MediaStore(settings.media_dir).path_for(hashlib.sha256(SLUG.encode()).hexdigest(), ".wav")
    target.parent.mkdir(parents=True, exist_ok=True)
    encode(speech()[: 11 * 16_000], target, "wav", "pcm_s16le")


def pictures(data: bytes) -> tuple[list[tuple[float, np.ndarray]], float, float, str, str]:
    """The video's frames (time, RGB), the video's and the audio's durations, their codecs."""
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        frames = [(float(f.time), f.to_ndarray(format="rgb24")) for f in container.decode(video)]
        video_codec, audio_codec = video.codec_context.name, audio.codec_context.name
    with av.open(io.BytesIO(data)) as container:
        samples = sum(f.samples for f in container.decode(audio=0))
        rate = container.streams.audio[0].codec_context.sample_rate
    return frames, len(frames) / FPS, samples / rate, video_codec, audio_codec


def test_the_clip_is_a_captioned_video_whose_words_appear_as_they_are_said(spoken, client, sessions, settings) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        # "my fellow Americans ask not what your country": words 2 to 9, from 2.0 s to 5.4 s
        excerpt = create_excerpt(session, SLUG, 2.0, 5.4, "Ask not", created_by="test")
        slug, start, end = excerpt.slug, excerpt.start, excerpt.end
        document = excerpt_document(session, find_excerpt(session, slug))
    began = time.perf_counter()
    with client.get(f"/excerpts/{slug}/clip.mp4") as response:
        response.get_data()
    took = time.perf_counter() - began
    assert response.status_code == 200 and response.mimetype == "video/mp4", response.data[:300]
    assert response.headers["Content-Disposition"].endswith('.mp4"')
    frames, video_seconds, audio_seconds, video_codec, audio_codec = pictures(response.data)
    assert (video_codec, audio_codec) == ("h264", "aac")
    clip_seconds = (end - start) + 2 * PAD  # the clip keeps a quarter second of recording each side of the words
    assert video_seconds == pytest.approx(clip_seconds, abs=0.2)
    assert audio_seconds == pytest.approx(clip_seconds, abs=0.2)
    assert took < 30, f"{took:.1f} s for a {clip_seconds:.1f} s clip"

    # Each frame shows exactly the words begun by its time: it is nearer the picture of that state than of
    # the states with one word fewer or more (the words begin 0.5 s apart: two frames each).
    words = caption_words(timed(WORDS, 1.0)[2:9], start - PAD)  # "my" (2.0 s) to "country" (5.0 s)
    assert " ".join(w.text for w in words) == document["quote"]
    plan = plan_frames(card_text(document, settings.site_name), words)
    states = sorted({plan.state(w.start) for w in words} | {(0, 0)})
    left, top, right, bottom = (int(v) for v in plan.box)
    expected = {s: np.asarray(plan.draw(*s).convert("L"))[top:bottom, left:right] < 128 for s in states}
    seen = []
    for at, picture in frames:
        ink = picture[top:bottom, left:right].mean(axis=2) < 128
        nearest = min(states, key=lambda s: int((ink ^ expected[s]).sum()))  # the fewest pixels differ
        assert nearest == plan.state(at + 0.5 / FPS), f"frame at {at:.2f} s shows {nearest}"
        seen.append(nearest[1])
    assert seen[0] == 0 and seen[-1] == len(words) and seen == sorted(seen)  # none at first, all by the end
    # Before a word's time it is not on screen; a frame after, it is.
    fifth = words[4].start
    before = next(p for at, p in reversed(frames) if at + 0.5 / FPS < fifth)[top:bottom, left:right]
    after = next(p for at, p in frames if at + 0.5 / FPS >= fifth)[top:bottom, left:right]
    assert (after < 100).sum() > (before < 100).sum() + 200  # more ink: the word "ask" was drawn

    # Cached by content: the same file again, whatever Host asked; a change of the card's words is a new one.
    [path] = (settings.home / "cache" / "captioned").glob(f"{slug}-*.mp4")
    with client.get(f"/excerpts/{slug}/clip.mp4", headers={"Host": "evil.example"}) as again:
        again.get_data()
    assert again.data == response.data and again.headers["ETag"] == response.headers["ETag"]
    assert list((settings.home / "cache" / "captioned").glob(f"{slug}-*.mp4")) == [path]
    assert b"evil.example" not in again.data
    assert client.get("/excerpts/zzzzzzzz/clip.mp4").status_code == 404
