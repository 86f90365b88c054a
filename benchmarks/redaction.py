"""A phrase redaction in a synthetic archive of --meetings × --segments segments (100,000 by default; SQLite and
Whoosh, the archive's defaults; the meetings of benchmarks/backup.py), with a published bulk download.

Measures what the curator waits for (the redaction committed: the ledger row, the meeting's published text and its
search documents written again), the public meeting page right after (it hides the phrase at once, before any
worker runs), then the worker's job (`testimony worker --once` in a child process: stale files removed, the index
compacted, the dump written again): its time from the job row, its progress steps, and the peak memory (RSS) of
its process.

    .venv/bin/python benchmarks/redaction.py                        # 1,000 meetings × 100 segments
    .venv/bin/python benchmarks/redaction.py --meetings 100 --segments 100
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.config import Settings  # noqa: E402
from benchmarks.backup import add_meetings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=1000)
    parser.add_argument("--segments", type=int, default=100)
    args = parser.parse_args()

    from sqlalchemy import func, select

    from archive import create_app
    from archive.db.models import Job, Segment
    from archive.home import open_home
    from archive.privacy.ledger import redact_phrase
    from archive.privacy.view import phrase_pattern
    from archive.publish.bulk import DUMPS, dump_name, write_dump, write_zip
    from archive.search.index import index_meeting, open_backend, rebuild

    work = Path(tempfile.mkdtemp(prefix="redaction-bench-"))
    try:
        settings = Settings(home=work / "home")
        started = time.perf_counter()
        add_meetings(settings, 1, args.meetings, args.segments, media_kb=4)
        sessions = open_home(settings)
        with sessions() as session:
            rebuild(open_backend(settings), session)
            segments = session.scalar(select(func.count(Segment.id)))
            dump = write_dump(session, settings.home / DUMPS / dump_name(), site_name="Bench")
            write_zip(dump.path, dump.path.with_name(f"{dump.path.name}.zip"))
        print(f"archive: {segments:,} segments, indexed and dumped in {time.perf_counter() - started:.0f} s")

        slug = f"meeting-{args.meetings // 2}"
        # Before: the curator's request itself merged the index after writing the meeting's documents again.
        backend = open_backend(settings)
        with sessions() as session:
            index_meeting(backend, session, slug)
        started = time.perf_counter()
        backend.compact()
        merged_s = time.perf_counter() - started
        print(f"before, in the request: the index merged after one meeting's documents: {merged_s:.1f} s")
        phrase = "line 7"  # said in one segment of the meeting ("words of meeting N line 7")
        page = f"/meetings/{slug}"
        client = create_app(settings).test_client(use_cookies=False)
        said = phrase_pattern(phrase)  # whole words: "line 7", not "line 70"
        assert said.search(client.get(page).get_data(as_text=True))
        started = time.perf_counter()
        with sessions() as session, session.begin():
            redact_phrase(session, slug, phrase, reason="bench", requested_by="bench", approved_by="bench", user=None)
        request_s = time.perf_counter() - started
        started = time.perf_counter()
        shown = client.get(page).get_data(as_text=True)
        page_s = time.perf_counter() - started
        assert not said.search(shown) and "[redacted]" in shown, "the public page did not hide the phrase at once"
        print(f"redaction committed (the curator's wait): {request_s * 1000:.0f} ms")
        print(f"public meeting page right after, phrase hidden: {page_s * 1000:.0f} ms")

        testimony = Path(sys.executable).with_name("testimony")
        environment = {**os.environ, "TESTIMONY_HOME": str(settings.home)}
        started = time.perf_counter()
        subprocess.run([str(testimony), "worker", "--once"], env=environment, check=True, capture_output=True)
        wall_s = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        with sessions() as session:
            job = session.scalars(select(Job).where(Job.kind == "dumps")).one()
            assert job.status == "done", job.error
            assert job.started_at is not None and job.finished_at is not None
            job_s = (job.finished_at - job.started_at).total_seconds()
            steps = f"{job.progress_done:.0f} of {job.progress_total:.0f} steps"
        print(f"worker job: {job_s:.1f} s ({steps}); the worker process {wall_s:.1f} s with its start")
        print(f"worker peak memory (RSS): {peak_kb / 1024:.0f} MB")  # the one child process this benchmark starts
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
