"""Background jobs: claims, leases, the reaper, and a worker killed mid-transcription that resumes (both databases)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from archive.cli.main import main
from archive.db.models import Job, JobChunk, Meeting, Segment, TranscriptionRun
from archive.errors import InvalidInput
from archive.worker.jobs import claim, next_queued, progress_of, reap, submit_transcription
from tests.factories.media import encode, speech
from tests.factories.meetings import Line, add_meeting

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def meeting(sessions) -> str:  # type: ignore[no-untyped-def]
    add_meeting(sessions, "2024-02-07-council", [Line("Hello.", 0.0, 1.0)])
    return "2024-02-07-council"


def test_a_job_is_a_queued_row_that_a_worker_finds(settings, sessions, meeting) -> None:  # type: ignore[no-untyped-def]
    job, made = submit_transcription(sessions, settings, meeting, created_by="cli")
    assert (
        made
        and job.status == "queued"
        and job.parameters
        == {
            "engine": "whisper",
            "model": "tiny.en",
            "languages": ["en"],
            "model_named": False,
            "diarize": True,
        }
    )
    assert next_queued(sessions) == job.id
    assert claim(sessions, job.id, 60, NOW) is not None
    assert next_queued(sessions) is None  # claimed: no longer queued


def test_the_same_key_queues_one_job(settings, sessions, meeting) -> None:  # type: ignore[no-untyped-def]
    first, made = submit_transcription(sessions, settings, meeting, key="form-key-1")
    again, made_again = submit_transcription(sessions, settings, meeting, key="form-key-1")
    assert made and not made_again and again.id == first.id
    with sessions() as session:
        assert session.scalar(select(func.count(Job.id))) == 1


def test_an_unknown_meeting_or_engine_is_refused_by_name(settings, sessions, meeting) -> None:  # type: ignore[no-untyped-def]
    from archive.errors import InvalidInput, NotFound

    with pytest.raises(NotFound, match="no meeting with slug 'nope'"):
        submit_transcription(sessions, settings, "nope")
    with pytest.raises(InvalidInput, match="engine 'vosk'"):
        submit_transcription(sessions, settings, meeting, engine="vosk")


def test_of_two_workers_claiming_one_job_one_wins(settings, sessions, meeting) -> None:  # type: ignore[no-untyped-def]
    job, _ = submit_transcription(sessions, settings, meeting)
    first = claim(sessions, job.id, 60, NOW)
    second = claim(sessions, job.id, 60, NOW)
    assert first is not None and second is None
    with sessions() as session:
        row = session.get_one(Job, job.id)
        assert (row.status, row.attempts, row.lease_token) == ("running", 1, first)


def test_the_reaper_requeues_a_job_whose_lease_ran_out_and_fails_it_after_the_last_attempt(
    settings, sessions, meeting
) -> None:  # type: ignore[no-untyped-def]
    settings = dataclasses.replace(settings, job_max_attempts=2)
    job, _ = submit_transcription(sessions, settings, meeting)
    assert claim(sessions, job.id, 60, NOW)
    assert reap(settings, sessions, NOW + dt.timedelta(seconds=30)) == []  # lease still held
    assert reap(settings, sessions, NOW + dt.timedelta(seconds=61)) == [job.id]
    assert next_queued(sessions) == job.id
    with sessions() as session:
        assert session.get_one(Job, job.id).status == "queued"
    assert claim(sessions, job.id, 60, NOW + dt.timedelta(seconds=62))  # attempt 2 of 2
    assert reap(settings, sessions, NOW + dt.timedelta(seconds=200)) == []
    with sessions() as session:
        row = session.get_one(Job, job.id)
        assert row.status == "failed" and "stopped during each of its 2 attempts" in row.error


def test_a_job_queued_in_any_transaction_is_found_once_it_commits(settings, sessions, meeting) -> None:  # type: ignore[no-untyped-def]
    """No queue beside the table can lose an entry: a row added with other changes (a ledger change queues a
    "dumps" job) is the job, visible to workers exactly when the transaction that made it commits."""
    with sessions() as session, session.begin():
        session.add(Job(kind="dumps", parameters={}))
        assert next_queued(sessions) is None  # not committed yet
    found = next_queued(sessions)
    assert found is not None
    with sessions() as session:
        assert session.get_one(Job, found).kind == "dumps"


def test_progress_gives_a_percent_and_an_eta(settings, sessions, meeting) -> None:  # type: ignore[no-untyped-def]
    job, _ = submit_transcription(sessions, settings, meeting)
    with sessions() as session, session.begin():
        row = session.get_one(Job, job.id)
        row.status, row.started_at, row.progress_total, row.progress_done = "running", NOW, 600.0, 150.0
    with sessions() as session:
        state = progress_of(session.get_one(Job, job.id), NOW + dt.timedelta(seconds=30))
    assert state["percent"] == 25.0 and state["eta_seconds"] == 90 and state["meeting"] == meeting


def test_workers_sharing_one_database_share_one_queue(settings, sessions, meeting) -> None:  # type: ignore[no-untyped-def]
    """Two workers (each its own engine, as on two machines) find the jobs in order and never take the same one."""
    from archive.home import open_home

    first_job, _ = submit_transcription(sessions, settings, meeting)
    second_job, _ = submit_transcription(sessions, settings, meeting, key="another")
    other = open_home(settings)  # another machine's view of the same database
    try:
        assert next_queued(other) == first_job.id
        assert claim(other, first_job.id, 60, NOW) is not None
        assert next_queued(sessions) == second_job.id
        assert claim(sessions, first_job.id, 60, NOW) is None  # already running elsewhere
        assert claim(sessions, second_job.id, 60, NOW) is not None
        assert next_queued(other) is None
    finally:
        other.kw["bind"].dispose()


# --- a worker killed in the middle of a long recording ----------------------------------------------------


def long_recording(tmp_path: Path) -> Path:
    """A minute and a half of real speech (the sample meeting three times), as FLAC: four windows, cut at quiet
    moments within 30 s of each other (archive.transcribe.windows). Three copies, not four: the claims need a
    window committed before the kill and some after it, and a fourth copy only cost twice the decoding."""
    audio = np.concatenate([speech("sample.wav")] * 3)
    return encode(audio, tmp_path / "long-meeting.flac", "flac", "flac")


def worker(settings, log: Path) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "TESTIMONY_HOME": str(settings.home),
        "TESTIMONY_DATABASE_URL": settings.database_url,
        "TESTIMONY_THREADS": "1",
        "TESTIMONY_WINDOW_SECONDS": "30",
        "TESTIMONY_JOB_LEASE_SECONDS": "3",
    }
    command = [str(Path(sys.executable).with_name("testimony")), "worker", "--poll", "0.2"]
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # one small query a look; the kill lands soon after the first window


@pytest.mark.slow
def test_a_worker_killed_mid_transcription_is_resumed_and_the_job_finishes_once(
    settings, sessions, runner, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # faster-whisper (int8) keeps the test short; the job mechanics are the same for both engines.
    options = ["--date", "2024-02-07", "--background", "--no-diarize", "--engine", "faster-whisper"]
    result = runner.invoke(
        main,
        ["ingest", str(long_recording(tmp_path)), "--body", "Council", "--title", "A long meeting", *options],
    )
    assert result.exit_code == 0, result.output
    slug = result.stdout.strip().splitlines()[-1]
    assert "queued job" in result.stderr
    with sessions() as session:
        job_id = session.scalar(select(Job.id))

    def chunks() -> int:
        with sessions() as session:
            return session.scalar(select(func.count(JobChunk.id)).where(JobChunk.job_id == job_id))

    log = tmp_path / "worker.log"
    first = worker(settings, log)
    try:
        wait(lambda: chunks() >= 1, 240, "the first window to be committed")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        first.kill()
    kept = chunks()
    assert 1 <= kept < 4, f"{kept} windows committed before the kill"
    with sessions() as session:
        assert session.get_one(Job, job_id).status == "running"  # its lease runs out in 3 s
        assert session.scalar(select(func.count(Segment.id)).join(Meeting).where(Meeting.slug == slug)) == 0

    second = worker(settings, log)
    try:
        wait(lambda: _status(sessions, job_id) in ("done", "failed"), 300, "the job to finish")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    with sessions() as session:
        job = session.get_one(Job, job_id)
        assert job.status == "done", (job.error, log.read_text())
        assert job.attempts == 2 and job.progress_done == job.progress_total
        segments = session.scalars(select(Segment).join(Meeting).where(Meeting.slug == slug).order_by(Segment.id)).all()
        assert session.scalar(select(func.count(TranscriptionRun.id))) == 1
        assert session.scalar(select(func.count(JobChunk.id))) == 0  # cleared when the job finished
    starts = [round(s.start, 2) for s in segments]
    assert len(starts) == len(set(starts)), "a segment was stored twice"
    assert starts == sorted(starts) and segments[-1].end > 80  # all four windows, in order (the last ends at 90 s)
    text = " ".join(s.text for s in segments).lower()
    assert text.count("new jersey") >= 3  # "This is Diane in New Jersey", once per copy of the sample
    assert f"resuming after {kept} finished window" in log.read_text()


def _status(sessions, job_id: int) -> str:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.get_one(Job, job_id).status


def test_jobs_list_and_retry(settings, sessions, runner, meeting) -> None:  # type: ignore[no-untyped-def]
    job, _ = submit_transcription(sessions, settings, meeting)
    with sessions() as session, session.begin():
        session.execute(update(Job).values(status="failed", error="the recording could not be decoded"))
    listed = runner.invoke(main, ["jobs", "list"])
    assert listed.exit_code == 0 and f"{job.id}\tfailed" in listed.stdout and "could not be decoded" in listed.stdout
    assert next_queued(sessions) is None
    retried = runner.invoke(main, ["jobs", "retry", str(job.id)])
    assert retried.exit_code == 0 and next_queued(sessions) == job.id
    assert runner.invoke(main, ["jobs", "retry", str(job.id)]).exit_code == 1  # queued now, not failed
    assert "no job 999" in runner.invoke(main, ["jobs", "retry", "999"]).stderr


def test_a_job_that_raises_an_unexpected_error_fails_with_its_reason_and_the_worker_runs_the_next(
    settings, sessions, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A job row no code would write (its parameters a list): reading it raised outside the job's error handling,
    which ended the jobs thread and the worker with it. Now the job fails with its reason and the next one runs."""
    from archive.db.models import Body

    with sessions() as session, session.begin():
        body = Body(name="Council", slug="council")
        for slug in ("2024-02-07-broken", "2024-02-08-empty"):  # meetings without recordings: nothing to decode
            session.add(Meeting(slug=slug, body=body, title="Regular meeting", date=dt.date(2024, 2, 7)))
    broken, _ = submit_transcription(sessions, settings, "2024-02-07-broken", diarize=False)
    following, _ = submit_transcription(sessions, settings, "2024-02-08-empty", diarize=False)
    with sessions() as session, session.begin():
        session.execute(update(Job).where(Job.id == broken.id).values(parameters=["engine", "model"]))
    log = tmp_path / "worker.log"
    process = worker(settings, log)
    try:
        wait(lambda: _status(sessions, following.id) == "done", 120, "the next job to finish")
        wait(lambda: _status(sessions, broken.id) == "failed", 60, "the broken job to fail")
        assert process.poll() is None, log.read_text()  # still running
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
    assert code == 0, log.read_text()
    with sessions() as session:
        job = session.get_one(Job, broken.id)
        assert job.attempts == job.max_attempts == 3  # an unforeseen error may pass: it was tried again
        assert job.error.startswith("ValueError: dictionary update sequence element #0 has length 6")
    listed = CliRunner().invoke(
        main,
        ["jobs", "list"],
        env={"TESTIMONY_HOME": str(settings.home), "TESTIMONY_DATABASE_URL": settings.database_url},
    )
    assert f"{broken.id}\tfailed" in listed.stdout and "ValueError: dictionary update sequence" in listed.stdout


def test_job_errors_name_files_not_where_the_server_keeps_them() -> None:
    from archive.worker.jobs import without_paths

    assert without_paths("[Errno 2] No such file or directory: '/srv/archive/uploads/ab12.flac'") == (
        "[Errno 2] No such file or directory: 'ab12.flac'"
    )
    assert (
        without_paths("could not decode /home/x/media/ab/cd.ogg: invalid data")
        == "could not decode cd.ogg: invalid data"
    )
    assert without_paths("see https://example.org/a/b and 1/2") == "see https://example.org/a/b and 1/2"


def test_a_job_for_other_languages_takes_the_multilingual_model(settings, sessions, meeting) -> None:  # type: ignore[no-untyped-def]
    job, _ = submit_transcription(sessions, settings, meeting, languages=("en", "es"), created_by="cli")
    assert (job.parameters["model"], job.parameters["languages"]) == ("base", ["en", "es"])
    with pytest.raises(InvalidInput, match="tiny.en is English-only but TESTIMONY_LANGUAGES includes es"):
        submit_transcription(sessions, settings, meeting, model="tiny.en", languages=("es",), created_by="cli")
    with pytest.raises(InvalidInput, match="'xx' is not a language code Whisper knows"):
        submit_transcription(sessions, settings, meeting, languages=("xx",), created_by="cli")


def test_a_job_for_a_body_with_a_vocabulary_is_guided(settings, sessions, runner, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The worker guides a job by the body's vocabulary as it is when the job runs, on the guided model unless
    the job named another; the run records the terms."""
    from archive.errors import ModelUnavailable
    from archive.transcribe import make_transcriber
    from archive.worker.jobs import run_job

    board = ["--body", "Board", "--title", "Inaugural", "--date", "1961-01-20", "--no-transcribe"]
    slug = runner.invoke(main, ["ingest", str(Path(__file__).parents[1] / "fixtures" / "jfk.flac"), *board])
    slug = slug.stdout.splitlines()[-1]
    assert runner.invoke(main, ["vocabulary", "Board", "--add", "Americans"]).exit_code == 0
    models: list[str] = []

    def stop(job_settings):  # type: ignore[no-untyped-def]
        models.append(job_settings.model)
        raise ModelUnavailable("stopped here")

    for model in (None, "tiny.en", "base.en"):  # the default model is no choice; base.en is
        job, _ = submit_transcription(sessions, settings, slug, model=model, diarize=False, key=str(model))
        run_job(settings, sessions, job.id, load_transcriber=stop)
    assert models == ["base", "base", "base.en"]

    monkeypatch.setenv("TESTIMONY_MODEL", "tiny.en")
    job, _ = submit_transcription(sessions, settings, slug, engine="faster-whisper", diarize=False, key="real")
    run_job(settings, sessions, job.id, load_transcriber=make_transcriber)
    with sessions() as session:
        assert session.get_one(Job, job.id).status == "done"
        run = session.scalars(select(TranscriptionRun).where(TranscriptionRun.engine == "faster-whisper")).one()
        assert run.model == "tiny.en" and run.parameters["guidance"]["terms"] == ["Americans"]
