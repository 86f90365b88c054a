"""The content-addressed media store."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from archive.media.store import MediaStore, write_atomically


def test_stage_hashes_while_copying_and_commit_lands_read_only(tmp_path: Path) -> None:
    source = tmp_path / "meeting.wav"
    source.write_bytes(b"RIFF" + os.urandom(3_000_000))
    store = MediaStore(tmp_path / "media")
    staged = store.stage(source)
    assert staged.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert staged.size == source.stat().st_size
    assert staged.original_name == "meeting.wav"
    path = store.commit(staged, ".wav")
    assert path == tmp_path / "media" / staged.sha256[:2] / f"{staged.sha256}.wav"
    assert path.read_bytes() == source.read_bytes()
    assert not os.access(path, os.W_OK) or os.geteuid() == 0  # root may write anyway
    assert path.stat().st_mode & 0o222 == 0
    assert list(store.incoming.iterdir()) == []


def test_the_same_bytes_twice_keep_one_file(tmp_path: Path) -> None:
    source = tmp_path / "a.wav"
    source.write_bytes(b"same bytes")
    store = MediaStore(tmp_path / "media")
    first = store.commit(store.stage(source), ".wav")
    second = store.commit(store.stage(source), ".wav")
    assert first == second
    assert [p for p in (tmp_path / "media").rglob("*") if p.is_file()] == [first]


def test_discard_leaves_nothing(tmp_path: Path) -> None:
    source = tmp_path / "a.wav"
    source.write_bytes(b"x" * 10)
    store = MediaStore(tmp_path / "media")
    store.discard(store.stage(source))
    assert not store.incoming.exists()  # not even an empty staging folder


def test_write_atomically_replaces_whole_files_only(tmp_path: Path) -> None:
    target = tmp_path / "t" / "x.json"
    write_atomically(target, b"{}")
    write_atomically(target, b'{"a": 1}')
    assert target.read_bytes() == b'{"a": 1}'
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]
