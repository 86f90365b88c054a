"""Backups of a synthetic archive: --meetings meetings, each with a recording of --media-kb KiB, a machine
transcript and --segments segments (SQLite). Measures the first backup, a second one after --new meetings were
added (incremental: only new files copied), and a restore with its re-index, each --runs times (medians), beside
the baseline of copying the whole home with shutil.copytree in the same run.

    .venv/bin/python benchmarks/backup.py                    # 1,000 meetings × 20 segments, 256 KiB each
    .venv/bin/python benchmarks/backup.py --meetings 100 --runs 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.config import Settings  # noqa: E402


def add_meetings(settings: Settings, first: int, count: int, segments: int, media_kb: int) -> None:
    """Meetings with real files (random bytes named by their hash), written in bulk."""
    from sqlalchemy import insert

    from archive.db.models import Body, Meeting, Recording, Segment, TranscriptionRun
    from archive.home import init_home
    from archive.media.store import MediaStore

    sessions = init_home(settings)
    store = MediaStore(settings.media_dir)
    now = dt.datetime.now(dt.UTC)
    with sessions() as session, session.begin():
        if first == 1:
            session.execute(insert(Body), [{"id": 1, "name": "Synthetic Council", "slug": "synthetic-council"}])
        for n in range(first, first + count):
            audio = os.urandom(media_kb * 1024)
            sha = hashlib.sha256(audio).hexdigest()
            path = store.path_for(sha, ".wav")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(audio)
            transcript = json.dumps({"segments": [f"words of meeting {n} line {i}" for i in range(segments)]}).encode()
            name = f"{sha}.whisper.tiny.en.json"
            (settings.transcripts_dir / name).write_bytes(transcript)
            slug = f"meeting-{n}"
            session.execute(
                insert(Meeting),
                [{"id": n, "slug": slug, "body_id": 1, "title": f"Meeting {n}", "date": dt.date(2020, 1, 1)}],
            )
            recording = {"id": n, "sha256": sha, "meeting_id": n, "position": 0, "offset": 0.0, "suffix": ".wav"}
            recording |= {"original_name": "x.wav", "size": len(audio), "container": "wav", "duration": 60.0}
            session.execute(insert(Recording), [recording | {"has_video": False, "streams": [], "created_at": now}])
            run = {"id": n, "recording_id": n, "engine": "whisper", "model": "tiny.en", "engine_version": "bench"}
            run |= {"transcript_file": name, "transcript_sha256": hashlib.sha256(transcript).hexdigest()}
            session.execute(insert(TranscriptionRun), [run | {"parameters": {}, "created_at": now}])
            session.execute(
                insert(Segment),
                [
                    {
                        "meeting_id": n,
                        "recording_id": n,
                        "run_id": n,
                        "start": i * 3.0,
                        "end": i * 3.0 + 2.5,
                        "text": f"words of meeting {n} line {i}",
                        "words": [],
                        "language": "en",
                        "tags": [],
                    }
                    for i in range(segments)
                ],
            )
    sessions.kw["bind"].dispose()


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=1000)
    parser.add_argument("--segments", type=int, default=20)
    parser.add_argument("--media-kb", type=int, default=256)
    parser.add_argument("--new", type=int, default=10, help="meetings added before the second backup")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from archive.operations.backup import backup
    from archive.operations.restore import restore

    work = Path(tempfile.mkdtemp(prefix="backup-bench-"))
    try:
        settings = Settings(home=work / "home")
        started = time.perf_counter()
        add_meetings(settings, 1, args.meetings, args.segments, args.media_kb)
        print(
            f"archive: {args.meetings} meetings, {folder_bytes(settings.home) / 1e6:.0f} MB,"
            f" built in {time.perf_counter() - started:.0f} s"
        )
        first, second, baseline, restores = [], [], [], []
        meetings = args.meetings
        for run in range(args.runs):
            dest = work / f"backup-{run}"
            started = time.perf_counter()
            made = backup(settings, dest)
            first.append((time.perf_counter() - started, made.copied_bytes))
            add_meetings(settings, meetings + 1, args.new, args.segments, args.media_kb)
            meetings += args.new
            started = time.perf_counter()
            made = backup(settings, dest)
            second.append((time.perf_counter() - started, made.copied_bytes, made.copied))
            started = time.perf_counter()
            shutil.copytree(settings.home, work / f"copy-{run}")
            baseline.append(time.perf_counter() - started)
            shutil.rmtree(work / f"copy-{run}")
            target = Settings(home=work / f"restored-{run}")
            started = time.perf_counter()
            restore(target, dest, without_purge_log=True)
            restores.append(time.perf_counter() - started)
            shutil.rmtree(target.home)
            shutil.rmtree(dest)

        def median(values: list[float]) -> float:
            return statistics.median(values)

        first_s, second_s, copy_s = median([t for t, _ in first]), median([t for t, *_ in second]), median(baseline)
        print(
            f"first backup:  {first_s:6.2f} s, {median([b for _, b in first]) / 1e6:7.1f} MB copied"
            f"  ({first_s / copy_s:.2f}× copytree of the home, {copy_s:.2f} s)"
        )
        print(
            f"second backup: {second_s:6.2f} s, {median([b for _, b, _ in second]) / 1e6:7.1f} MB copied,"
            f" {median([c for *_, c in second]):.0f} files ({second_s / first_s:.2f}× the first)"
        )
        print(f"restore (verify every byte, re-index, check): {median(restores):6.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
