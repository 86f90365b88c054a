"""Simultaneous tracks end to end, with the real models: the founding case's remark and the testimony it was said
over, both found by search at the right second with two different voices, from a track per voice and from a
two-channel file whose channels bleed into each other (cross-talk kept once); the pieces of tracks.py on their own.

One database (SQLite): what is new here is audio, not SQL; the overlapping lines' SQL runs on both in
tests/web/admin/test_overlaps.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive.cli.main import main
from archive.config import Settings
from archive.db.models import Speaker
from archive.errors import InvalidInput
from archive.home import open_home
from archive.ingest.tracks import (
    ACTIVITY_SECONDS,
    BLEED_SECONDS,
    SAMPLE_RATE,
    SPEECH_GAP,
    Piece,
    _heard_elsewhere,
    _Line,
    file_tracks,
    on_track,
    parse_offsets,
    speech_only,
)
from archive.search.censored import searchable
from tests.factories.media import FIXTURES, mostly_silent, speech

TRUTH = json.loads((FIXTURES / "hotmic" / "hotmic.json").read_text())
MEETING = ["--body", "Council", "--title", "Hot mic", "--date", "2024-02-07", "--engine", "faster-whisper"]


def ingest(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(main, ["ingest", *args, *MEETING])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout.splitlines()[-1]


def search(runner: CliRunner, query: str) -> list[dict]:  # type: ignore[type-arg]
    result = runner.invoke(main, ["search", query, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["results"]


def assert_both_voices_found(runner: CliRunner, query: str = "fucking", word: str = "fucking") -> None:
    """The remark at its second, by one voice; the testimony under it at its second, by another."""
    [said] = search(runner, query)
    heard = next(w for w in TRUTH["voices"]["remark"]["words"] if w["word"] == word)
    assert said["start"] - 1.0 <= heard["start"] <= said["end"] + 1.0, said
    afraid = next(w for w in TRUTH["voices"]["testimony"]["words"] if w["word"] == "afraid")
    [under] = search(runner, '"every time I drive"')
    assert under["start"] <= afraid["start"] + 0.5 and under["end"] >= afraid["end"], under
    assert said["speaker"]["label"] != under["speaker"]["label"]
    # Said once: the bleed of the testimony into the deputy's microphone is not a second copy of it.
    assert len(search(runner, '"dairy farm" OR "milked cows"')) == 1


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_channels_give_the_remark_and_the_testimony_once_each(
    runner: CliRunner, settings: Settings, hotmic: Path
) -> None:
    slug = ingest(runner, str(hotmic / "hotmic-2ch.wav"), "--split-channels")
    assert_both_voices_found(runner)
    document = json.loads(runner.invoke(main, ["export", slug, "--format", "json"]).stdout)
    assert len(document["speakers"]) == 2  # the bleed heard on the deputy's channel is no voice of its own
    # Each voice keeps the channel it was heard on, for curators: never published as a name.
    sessions = open_home(settings)
    with sessions() as session:
        heard_on = dict(session.execute(select(Speaker.label, Speaker.track)).all())
    sessions.kw["bind"].dispose()
    assert heard_on == {"SPEAKER_00": "hotmic-2ch.wav channel 1", "SPEAKER_01": "hotmic-2ch.wav channel 2"}
    assert "channel" not in json.dumps(document["speakers"]) and "channel" not in json.dumps(document["segments"])
    # The word as said: Whisper writes it "fucking" or "f**king" depending on the CPU (archive.search.censored).
    remark = next(s for s in document["segments"] if "fucking" in searchable(s["text"]))
    assert remark["overlaps"], "the remark is marked as said over the testimony"
    assert runner.invoke(main, ["check"]).exit_code == 0


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_track_per_voice_with_an_offset(runner: CliRunner, hotmic: Path, tmp_path: Path) -> None:
    """The deputy's track starts 1.5 s late (its file lacks the first 1.5 s): --offset puts it back in place."""
    from tests.fixtures.synth.mix import read_wav, write_wav

    late = tmp_path / "deputy.wav"
    write_wav(late, [read_wav(hotmic / "hotmic-remark.wav")[24_000:]])
    ingest(runner, str(hotmic / "hotmic-testimony.wav"), str(late), "--tracks", "--offset", "deputy.wav=1.5")
    # The deputy's track is transcribed as its speech alone: the remark straddles Whisper's 30 s boundary there,
    # and transcribed whole it lost its first words ("…worried about being safe").
    assert_both_voices_found(runner)


def test_offsets_and_track_names_are_checked() -> None:
    assert parse_offsets(["b.wav=1.5", "2=0"]) == {"b.wav": 1.5, "2": 0.0}
    for bad in ["b.wav", "=1", "b.wav=soon", "b.wav=-1", "b.wav=nan"]:
        with pytest.raises(InvalidInput, match="--offset"):
            parse_offsets([bad])
    tracks = file_tracks([Path("x/a.wav"), Path("y/b.flac")], {"b": 2.0})
    assert [(t.name, t.offset) for t in tracks] == [("a.wav", 0.0), ("b.flac", 2.0)]
    with pytest.raises(InvalidInput, match="--offset c: no track of that name"):
        file_tracks([Path("a.wav"), Path("b.wav")], {"c": 1.0})
    with pytest.raises(InvalidInput, match="the same file name"):
        file_tracks([Path("x/a.wav"), Path("y/a.wav")], {})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bad_track_options_are_one_line_and_store_nothing(runner: CliRunner, hotmic: Path) -> None:
    for args, reason in [
        ([str(hotmic / "hotmic-2ch.wav"), "--tracks"], "--tracks takes two or more files"),
        ([str(hotmic / "hotmic-testimony.wav"), str(hotmic / "hotmic-remark.wav"), "--split-channels"], "takes one"),
        ([str(hotmic / "hotmic-testimony.wav"), "--split-channels"], "has one channel: there is nothing to split"),
        ([str(hotmic / "hotmic-2ch.wav"), "--offset", "1=2"], "--offset places a track"),
        ([str(hotmic / "hotmic-2ch.wav"), "--split-channels", "--offset", "3=2"], "--offset 3: no channel"),
    ]:
        result = runner.invoke(main, ["ingest", *args, *MEETING, "--no-transcribe"])
        assert result.exit_code == 1 and reason in result.stderr, (args, result.output)
    home = Path(str(runner.env["TESTIMONY_HOME"]))
    assert [p for p in (home / "media").rglob("*") if p.is_file() and p.suffix != ".md"] == []


def test_cross_talk_is_the_same_words_within_a_second() -> None:
    def line(words: str, start: float, track: int) -> _Line:
        return _Line(
            track,
            track,
            start,
            start + len(words.split()) * 0.3,
            [(w.lower(), start + i * 0.3) for i, w in enumerate(words.split())],
        )

    heard = line("my hands shake on the wheel", 25.0, 1)
    assert _heard_elsewhere(line("my hands shake on the wheel", 25.0 + BLEED_SECONDS * 0.5, 2), [heard])
    assert not _heard_elsewhere(line("my hands shake on the wheel", 25.0 + 3 * BLEED_SECONDS, 2), [heard])
    assert not _heard_elsewhere(line("you are worried about being safe", 25.0, 2), [heard])


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_mixed_track_lists_its_overlap_in_the_export(runner: CliRunner, hotmic: Path) -> None:
    """One room track, the remark 12 dB under the testimony: the overlap is stored and in the meeting's JSON."""
    slug = ingest(runner, str(hotmic / "hotmic-12db.wav"), "--no-transcribe")
    result = runner.invoke(main, ["diarize", slug])
    assert result.exit_code == 0, result.output
    document = json.loads(runner.invoke(main, ["export", slug, "--format", "json"]).stdout)
    [overlap] = document["overlaps"]
    truth = TRUTH["overlap"]
    assert abs(overlap["start"] - truth["start"]) <= 0.5 and abs(overlap["end"] - truth["end"]) <= 0.5, overlap
    assert overlap["voices"] == ["SPEAKER_00", "SPEAKER_01"] and overlap["reviewed"] is False


def test_times_in_the_speech_alone_go_back_to_the_track() -> None:
    pieces = [Piece(at=1.0, start=28.0, length=3.4), Piece(at=5.4, start=100.0, length=2.0)]
    assert on_track(1.0, pieces) == 28.0 and on_track(2.5, pieces) == 29.5
    assert on_track(4.9, pieces) == 31.4  # in the silence between two stretches: the nearer edge before it
    assert on_track(6.0, pieces) == 100.6
    assert on_track(0.2, pieces) == 28.0  # the silence before the first stretch


def test_a_long_track_is_read_and_its_speech_written_a_stretch_at_a_time(tmp_path: Path) -> None:
    jfk = speech()
    track = mostly_silent(tmp_path / "track.f32", 12 * 60, {100.0: jfk, 400.0: jfk})

    speech_alone, pieces = speech_only(track, tmp_path / "speech.f32")

    assert max(track.reads) <= ACTIVITY_SECONDS * SAMPLE_RATE  # never the whole track
    assert {int(p.start) // 100 for p in pieces} == {1, 4}  # the two speeches (a pause may split one)
    assert all(100 <= p.start < p.start + p.length < 112 or 400 <= p.start < p.start + p.length < 412 for p in pieces)
    gap = int(SPEECH_GAP * SAMPLE_RATE)
    assert speech_alone.num_samples == (len(pieces) + 1) * gap + sum(round(p.length * SAMPLE_RATE) for p in pieces)
    first = speech_alone.read(gap, gap + round(pieces[0].length * SAMPLE_RATE))
    start = round(pieces[0].start * SAMPLE_RATE)
    assert np.array_equal(first, track.read(start, start + len(first)))  # the track's own samples
