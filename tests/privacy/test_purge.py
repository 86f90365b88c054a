"""A purge reaches the job queue too: the words a job kept about the meeting, and an upload still waiting."""

from __future__ import annotations

from sqlalchemy import select

from archive.db.models import Job, Meeting
from archive.privacy.purge import purge_meeting, remove_files
from tests.factories.meetings import Line, add_meeting

WHO = {"reason": "asked in person", "requested_by": "the testifier", "approved_by": "editor@example.org"}


def test_a_purge_scrubs_the_meetings_jobs_and_removes_their_uploads(sessions, settings) -> None:  # type: ignore[no-untyped-def]
    add_meeting(sessions, "hearing", [Line("My name is Rosa.", 0.0, 2.0, speaker="Rosa")], title="Rosa's hearing")
    upload = settings.home / "uploads" / "rosa-hearing.flac"
    upload.parent.mkdir()
    upload.write_bytes(b"fLaC leftover")
    with sessions() as session, session.begin():
        meeting_id = session.scalar(select(Meeting.id).where(Meeting.slug == "hearing"))
        parameters = {"engine": "whisper", "model": "tiny.en", "diarize": True, "upload": upload.name}
        failed = {"title": "Rosa's hearing", "body": "Council", "source_url": "https://example.org/rosa"}
        session.add(
            Job(
                kind="ingest",
                meeting_id=meeting_id,
                parameters=parameters | failed,
                status="failed",
                error="could not decode rosa-hearing.flac",
            )
        )
        session.add(Job(kind="transcribe", meeting_id=meeting_id, parameters={"engine": "whisper"}, status="queued"))
        session.add(Job(kind="transcribe", meeting_id=None, parameters={"engine": "whisper"}, status="queued"))
    with sessions() as session, session.begin():
        files = purge_meeting(session, settings, "hearing", **WHO, user=None)
    assert upload in files
    remove_files(files)
    assert not upload.exists()
    with sessions() as session:
        jobs = session.scalars(select(Job).order_by(Job.id)).all()
        for job in jobs[:2]:
            assert "Rosa" not in str(job.parameters) and "rosa" not in (job.error or "").lower()
            assert job.parameters.get("purged") is True and job.status == "failed"
        assert jobs[0].parameters["model"] == "tiny.en"
        assert jobs[2].status == "queued" and "purged" not in jobs[2].parameters  # a job of no meeting stays as it was
