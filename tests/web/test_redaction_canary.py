"""The canary: a name said aloud by a testifier, redacted at her request, must be gone from every public surface.

A real recording (jfk.flac) is ingested; its transcript is written here so that a testifier, Marisol Vantablack,
says a distinctive name, "Zyxwhistle Quorran", over real speech. The name is also in every text people wrote
about the meeting: its title, an agenda item, an excerpt's title and note, a campaign citing that excerpt (title,
why, subject, letter) and the finished upload job that made the meeting (title, file name). The excerpt's card,
its clip and the bulk dump are all made first. A curator then redacts the phrase and withholds the testifier's
name through the admin pages; the public view hides both at once, before the worker runs the job the change
queued (which then rewrites the files, with progress). Every public route is crawled (the app's URL map with its
parameters filled, then every link found), every body read (HTML, JSON, XML, text, zip members, media bytes);
every file of the archive home and of the server's kept pages is read as bytes (walk_home says what is left out,
and why), the jobs' parameters too; PostgreSQL's vector is asked directly; the public recording and the clip are
decoded and the redacted span must be silent while the rest is not. The original stays reachable by a curator,
and that access is audited.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import zipfile
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import av
import numpy as np
import pytest
from sqlalchemy import select, text

from archive.campaigns.manage import create_campaign, open_campaign, update_campaign
from archive.cli.main import main
from archive.db.models import (
    AgendaItem,
    AuditEvent,
    Job,
    Meeting,
    Person,
    Recording,
    Segment,
    Speaker,
    TranscriptionRun,
)
from archive.excerpts.cards import card_text
from archive.excerpts.manage import create_excerpt, excerpt_document, find_excerpt
from archive.media.store import MediaStore
from archive.search.index import index_meeting, open_backend
from archive.worker.jobs import work
from tests.factories.accounts import csrf_token, sign_in
from tests.factories.campaigns import HOUSE, add_directory
from tests.factories.media import FIXTURES

pytestmark = pytest.mark.both_databases  # privacy: PostgreSQL's own search vector is read back

CANARY = "Zyxwhistle Quorran"
PERSON = "Marisol Vantablack"
SECRETS = ("zyxwhistle", "quorran", "marisol", "vantablack", "zenith tenants", "tenant organizer")
# /language/<code>: the switch shows nothing (a redirect and a cookie); its links on every page would double the crawl.
SKIP = ("/admin", "/login", "/logout", "/account", "/static", "/language")
WHO = {"reason": "asked in person", "requested_by": "the testifier", "approved_by": "editor@example.org"}
# (word, start, end) on the recording's timeline: the canary's words fall on "ask not what your country" (speech).
LINES = [
    ("SPEAKER_00", [("The", 0.3), ("chair", 0.9), ("calls", 1.5), ("the", 2.1), ("hearing", 2.7), ("open.", 3.3)]),
    (
        "SPEAKER_01",
        [
            ("My", 4.0),
            ("neighbour", 4.4),
            ("Zyxwhistle", 5.0),
            ("Quorran,", 5.6),
            ("was", 6.3),
            ("detained", 6.7),
            ("last", 7.3),
            ("week.", 7.7),
        ],
    ),
    ("SPEAKER_00", [("Thank", 8.6), ("you", 9.1), ("for", 9.5), ("coming.", 9.9)]),
]
CANARY_SPAN = (5.0, 6.2)  # the two words, as the transcript times them


def _words(pairs: list[tuple[str, float]], end: float) -> list[dict[str, Any]]:
    starts = [start for _, start in pairs] + [end]
    return [
        {"word": word, "start": start, "end": round(min(starts[i + 1], start + 0.6), 2), "probability": 0.9}
        for i, (word, start) in enumerate(pairs)
    ]


@pytest.fixture
def archive(settings, sessions, runner, app_for):  # type: ignore[no-untyped-def]
    ingested = runner.invoke(
        main,
        [
            "ingest",
            str(FIXTURES / "jfk.flac"),
            "--body",
            "Housing Board",
            "--title",
            "Public hearing on shelters",
            "--date",
            "2026-11-03",
            "--no-transcribe",
        ],
    )
    assert ingested.exit_code == 0, ingested.output
    slug = ingested.stdout.splitlines()[-1]
    add_directory(sessions)
    with sessions() as session, session.begin():
        meeting = session.scalars(select(Meeting).where(Meeting.slug == slug)).one()
        recording = session.scalars(select(Recording).where(Recording.meeting_id == meeting.id)).one()
        run = TranscriptionRun(
            recording=recording,
            engine="curator",
            model="typed",
            engine_version="test",
            transcript_file=f"{recording.sha256}.typed.json",
            transcript_sha256="0" * 64,
        )
        chair = Person(name="Ruth Amsel", role="chair")
        testifier = Person(name=PERSON, role="tenant organizer", affiliation="Zenith Tenants Union")
        voices = {
            "SPEAKER_00": Speaker(
                meeting=meeting,
                label="SPEAKER_00",
                person=chair,
                attribution="curator",
                turns=[[0.0, 4.0], [8.5, 11.0]],
            ),
            "SPEAKER_01": Speaker(
                meeting=meeting, label="SPEAKER_01", person=testifier, attribution="curator", turns=[[4.0, 8.5]]
            ),
        }
        session.add_all([run, *voices.values()])
        session.flush()
        ends = [4.0, 8.5, 11.0]
        for (label, pairs), end in zip(LINES, ends, strict=True):
            words = _words(pairs, end)
            session.add(
                Segment(
                    meeting_id=meeting.id,
                    recording_id=recording.id,
                    run_id=run.id,
                    speaker_id=voices[label].id,
                    start=words[0]["start"],
                    end=words[-1]["end"],
                    text=" ".join(w["word"] for w in words),
                    words=words,
                    language="en",
                    kind="testimony",
                )
            )
        session.flush()
        # The name in every text people wrote about the meeting, each set after its slug was made from it (a slug
        # is an address, fixed when made: a name in one is a purge's business, not a redaction's).
        meeting.title = f"Public hearing on shelters: {CANARY}"
        session.add(AgendaItem(meeting_id=meeting.id, start=4.0, title=f"Testimony about {CANARY}"))
        excerpt = create_excerpt(session, slug, 4.0, 8.2, "Detained at the border", created_by="organizer")
        excerpt.title = f"{CANARY} detained at the border"
        excerpt.note = f"Her neighbour {CANARY} was taken on a Tuesday."
        campaign = create_campaign(
            session,
            title="Free our neighbours",
            why=f"Bring {CANARY} home.",
            subject=f"Free {CANARY}",
            target="list",
            recipients=[HOUSE[0]],
            letter_template=f"I write about {CANARY}, detained last week.\n\n{{quote}}\n\n{{supporter_name}}, {{town}}",
            excerpt_slugs=[excerpt.slug],
        )
        update_campaign(session, campaign, title=f"Free {CANARY}")
        open_campaign(session, campaign)
        # The upload that made the meeting, long done: what was typed and the file's name are on its job.
        session.add(
            Job(
                kind="ingest",
                meeting_id=meeting.id,
                status="done",
                parameters={"title": meeting.title, "name": "zyxwhistle-quorran.flac", "tracks": [], "engine": "x"},
                created_by="curator",
            )
        )
        ids = {
            "meeting": slug,
            "excerpt": excerpt.slug,
            "campaign": campaign.slug,
            "people": [chair.id, testifier.id],
            "recording": (recording.position, recording.suffix),
        }
    with sessions() as session:
        index_meeting(open_backend(settings), session, slug)
    dumped = runner.invoke(main, ["dump"])
    assert dumped.exit_code == 0, dumped.output
    return {**ids, "app": app_for(settings)}


def crawl(client, ids: dict[str, Any]) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """Every public GET route (parameters filled from the archive's objects), then every link found; path -> body."""
    start = [
        f"/api/search?q={CANARY}",
        "/api/search?q=detained",
        f"/search?q={CANARY}",
        "/search?q=detained",
        f"/search.atom?q={CANARY}",
        "/search.atom?q=detained",
        f"/search?speaker={PERSON}",
        "/api/search?q=vantablack",
        "/api/search?q=title:zyxwhistle",
        '/search?q=title:"Zyxwhistle Quorran"',
        f"/oembed?url=http://localhost/excerpts/{ids['excerpt']}",
        "/api/excerpts",
        "/excerpts.csv",
    ]
    for rule in client.application.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(SKIP):
            continue
        start.extend(_paths(rule, ids))
    seen: dict[str, bytes] = {}
    queue = deque(start)
    while queue and len(seen) < 400:
        path = queue.popleft()
        if path in seen:
            continue
        response = fetch(client, path)
        body = response.data
        seen[path] = body
        if response.status_code in (301, 302, 303, 307, 308):
            queue.append(_local(response.headers["Location"]))
        if response.mimetype in ("text/html", "application/xml", "application/atom+xml", "application/json"):
            for link in re.findall(r'(?:href|src)="([^"]+)"|"(?:url|context_url)": ?"([^"]+)"', body.decode()):
                target = _local((link[0] or link[1]).replace("&amp;", "&"))
                if target and not target.startswith(SKIP) and target not in seen:
                    queue.append(target)
    return seen


def fetch(client, path: str):  # type: ignore[no-untyped-def]
    """A response read whole and closed (files are streamed: an open one would be left for the collector)."""
    with client.get(path) as response:
        response.get_data()
    return response


def _local(url: str) -> str:
    url = re.sub(r"^https?://[^/]+", "", url.split("#")[0])
    return url if url.startswith("/") and not url.startswith("//") else ""


def _paths(rule, ids: dict[str, Any]) -> list[str]:  # type: ignore[no-untyped-def]
    kind = "excerpt" if "excerpts" in rule.rule else "campaign" if "campaigns" in rule.rule else "meeting"
    choices: dict[str, list[Any]] = {
        "slug": [ids[kind]],
        "person_id": ids["people"],
        "position": [ids["recording"][0]],
        "suffix": [ids["recording"][1]],
        "fmt": ["json", "txt", "vtt", "srt", "csv", "rttm"] if kind == "meeting" else ["m4a", "mp3", "ogg"],
        "token": ["not-a-token"],
    }
    combos: list[dict[str, Any]] = [{}]
    for name in rule.arguments:
        combos = [{**c, name: value} for c in combos for value in choices[name]]
    return [rule.build(values, append_unknown=False)[1] for values in combos]


def leaks(body: bytes) -> list[str]:
    """Secrets in a body, or in any member of a zip."""
    texts = [body]
    if body[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            texts.extend(archive.read(name) for name in archive.namelist())
    found = []
    for data in texts:
        lowered = data.decode("utf-8", errors="ignore").lower()
        found.extend(secret for secret in SECRETS if secret in lowered)
    return found


def hidden_at_once(ids: dict[str, Any]) -> list[str]:
    """The pages that show the meeting's, the excerpt's and the campaign's texts, read before the worker runs."""
    slug, excerpt, campaign = ids["meeting"], ids["excerpt"], ids["campaign"]
    return [
        "/",
        "/meetings",
        f"/meetings/{slug}",
        f"/meetings/{slug}.json",
        f"/meetings/{slug}.vtt",
        "/api/meetings",
        f"/api/meetings/{slug}",
        "/meetings.atom",
        "/sitemap.xml",
        "/search?q=detained",
        "/api/search?q=detained",
        f"/excerpts/{excerpt}",
        f"/api/excerpts/{excerpt}",
        f"/campaigns/{campaign}",
        "/api/campaigns",
        f"/api/campaigns/{campaign}",
        f"/people/{ids['people'][1]}",
    ]


def walk_home(settings, sessions, kept_pages: Path) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """The secrets in each file of the archive home and of the server's kept pages, by relative path.

    Left out, and only these: the database (archive.db and its journal files), which holds the ledger itself and
    the originals a curator reads and restores (the transcript as said, titles and texts as typed: a redaction
    rewrites nothing stored, it withholds on the way out); the purge log, the ledger's copy kept for restores
    (it names each withheld phrase so that a restored backup withholds it again); and the originals on disk a
    curator may restore: each recording's stored original in media/ (served to curators only, each access
    audited) and the machine transcripts in transcripts/ that a re-transcription or a revert starts from.
    Everything else is read as bytes, and as text inside each zip member: the search index, the public copies
    of recordings, clips, captioned videos, cards, dumps, waiting uploads, keys and caches; the kept pages too.
    """
    with sessions() as session:
        recordings = session.execute(select(Recording.sha256, Recording.suffix)).all()
        runs = session.scalars(select(TranscriptionRun.transcript_file)).all()
    home, store = Path(settings.home), MediaStore(settings.media_dir)
    originals = {store.path_for(sha, suffix) for sha, suffix in recordings}
    originals |= {Path(settings.transcripts_dir) / name for name in runs}
    originals |= {path for sha, _ in recordings for path in Path(settings.transcripts_dir).glob(f"{sha}.*")}
    database = {home / f"archive.db{end}" for end in ("", "-wal", "-shm", "-journal")}
    skipped = originals | database | {Path(settings.purge_log_path)}
    found: dict[str, list[str]] = {}
    for root in (home, Path(kept_pages)):
        for path in sorted(root.rglob("*")):
            if path.is_file() and path not in skipped:
                name = path.relative_to(root.parent if root != home else home).as_posix()
                found[name] = leaks(path.read_bytes()) if root == home else _kept_page_leaks(path.read_bytes())
    return found


def _kept_page_leaks(data: bytes) -> list[str]:
    """A kept page (archive.web.page_cache: its key, then its body): a search for a secret is kept with the query
    it echoes, and must answer nothing; any other page must not hold a secret."""
    length = int.from_bytes(data[:4], "big")
    key, body = json.loads(data[4 : 4 + length])["key"], data[4 + length :]
    if leaks(unquote_plus(key).encode()):
        path = re.search(r"'(/[^']*)'", key)
        assert path is not None and _answers_nothing(path.group(1), body), key
        return []
    return leaks(body)


def _answers_nothing(path: str, body: bytes) -> bool:
    """A search page, feed or API answer with no hit (and so nothing of the testimony in it)."""
    if path.startswith("/api/"):
        return json.loads(body)["total"] == 0
    if ".atom" in path:
        return b"<entry" not in body
    return b'<p class="total">0 results' in body or re.search(rb'<ol class="hits">\s*</ol>', body) is not None


def rms(data: bytes, start: float, end: float) -> float:
    """The RMS of [start, end] seconds of an encoded file, decoded with PyAV."""
    with av.open(io.BytesIO(data)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16_000)
        frames = [*container.decode(audio=0), None]
        samples = np.concatenate([c.to_ndarray().reshape(-1) for f in frames for c in resampler.resample(f)])
    piece = samples[int(start * 16_000) : int(end * 16_000)]
    return float(np.sqrt(np.mean(piece.astype(np.float64) ** 2)))


def _post(client, path: str, data: dict[str, str], meeting: str) -> None:  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/admin/meetings/{meeting}/privacy")
    response = client.post(path, data={**data, "csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)


def _no_transcriber(_settings):  # type: ignore[no-untyped-def]
    raise AssertionError("a dumps job transcribes nothing")


def test_a_redacted_name_is_gone_from_every_public_surface(archive, settings, sessions, app_for) -> None:  # type: ignore[no-untyped-def]
    app, slug, excerpt = archive["app"], archive["meeting"], archive["excerpt"]
    public = app.test_client()
    # The canary is everywhere before (so the crawl below can find it): pages, API, search, feeds, dump, clip.
    before = crawl(public, archive)
    assert sum(1 for body in before.values() if leaks(body)) >= 15
    card_before = fetch(public, f"/excerpts/{excerpt}/card.png").headers["ETag"]
    clip_before = fetch(public, f"/excerpts/{excerpt}/clip.m4a").headers["ETag"]
    original = (FIXTURES / "jfk.flac").read_bytes()
    assert before[f"/meetings/{slug}/recordings/0.flac"] == original

    curator = app.test_client()
    sign_in(curator, sessions, "curator")
    _post(curator, f"/admin/meetings/{slug}/privacy/phrase", {"phrase": CANARY.lower(), **WHO}, slug)
    consent = {"label": "SPEAKER_01", "consent": "name-withheld", **WHO}
    _post(curator, f"/admin/meetings/{slug}/privacy/consent", consent, slug)
    # The public view hides it at once, before the worker has run: it reads the ledger (archive.privacy.view).
    at_once = {path: fetch(public, path).data for path in hidden_at_once(archive)}
    assert {path: leaks(body) for path, body in at_once.items() if leaks(body)} == {}
    # The dump written before the change is not offered any more; the worker writes the new one.
    assert fetch(public, "/downloads/archive.zip").status_code == 404
    with sessions() as session:
        rewrite = session.scalars(select(Job).where(Job.kind == "dumps")).one()
        assert rewrite.status == "queued"
    assert f"job {rewrite.id}" in curator.get(f"/admin/meetings/{slug}/privacy").get_data(as_text=True)
    assert work(settings, sessions, once=True, load_transcriber=_no_transcriber) == 1  # one "dumps" job
    with sessions() as session:  # stale files gone, the index compacted, the jobs' words withheld; one meeting dumped
        rewrite = session.get_one(Job, rewrite.id)
        assert (rewrite.status, rewrite.progress_done, rewrite.progress_total) == ("done", 2, 2)
        for job in session.scalars(select(Job)):  # what curators typed on jobs: withheld too
            assert not leaks(json.dumps([job.parameters, job.error]).encode()), job.kind
    assert "2 of 2 steps done" in curator.get(f"/admin/jobs/{rewrite.id}").get_data(as_text=True)

    after = crawl(public, archive)
    assert len(after) >= 50, sorted(after)
    echoes = {path: body for path, body in after.items() if leaks(unquote_plus(path).encode())}
    for path, body in echoes.items():  # a search for the secret answers nothing (its query is echoed back)
        assert _answers_nothing(path, body), path
    leaked = {path: leaks(body) for path, body in after.items() if path not in echoes and leaks(body)}
    assert leaked == {}
    assert len(echoes) >= 8
    by_title = fetch(public, "/api/search?q=title:shelters")  # Whoosh: the title as published
    assert by_title.get_json()["total"] == 3 and not leaks(by_title.data)
    assert f"/meetings/{slug}/recordings/0.flac" in after and "/downloads/archive.zip" in after
    page = after[f"/meetings/{slug}"].decode()
    assert "Public commenter 1" in page and "[redacted]" in page
    assert "redacted at the speaker&#39;s request on" in page or "redacted at the speaker's request on" in page
    # The card and the clip are made again (their keys changed), from the redacted quote.
    assert fetch(public, f"/excerpts/{excerpt}/card.png").headers["ETag"] != card_before
    assert fetch(public, f"/excerpts/{excerpt}/clip.m4a").headers["ETag"] != clip_before
    with sessions() as session:
        document = excerpt_document(session, find_excerpt(session, excerpt))
        drawn = " ".join(str(v) for v in vars(card_text(document, "Testimony Archive")).values()).lower()
    assert "[redacted]" in drawn and not [s for s in SECRETS if s in drawn]

    # The index's files hold neither the word's stem nor the name.
    for path in Path(settings.index_dir).rglob("*"):
        if path.is_file():
            data = path.read_bytes().lower()
            assert b"zyxwhistl" not in data and b"quorran" not in data and b"vantablack" not in data, path
    # Every file of the home and of the server's kept pages, but the database and the originals (see walk_home).
    kept_pages = app.extensions["page_cache"].folder
    visitor = app.test_client(use_cookies=False)  # a visitor without a session: the pages she reads are kept
    for path in hidden_at_once(archive):
        fetch(visitor, path)
    found = walk_home(settings, sessions, kept_pages)
    reached = {name.rsplit("/", 1)[0] for name in found}
    wanted = ("search_index/", "dumps", "cache/public", "cache/clips", "cache/cards", kept_pages.name)
    assert [w for w in wanted if not any(folder.startswith(w) for folder in reached)] == [], sorted(reached)
    leaked_files = sorted(name for name, secrets in found.items() if secrets)
    assert not leaked_files, "\n".join(leaked_files)
    if settings.sqlalchemy_url.startswith("postgresql"):
        with sessions() as session:
            for word in ("Zyxwhistle", "Quorran"):
                count = session.scalar(
                    text(
                        "SELECT count(*) FROM segments WHERE search_vector @@ plainto_tsquery('testimony_english', :w)"
                    ),
                    {"w": word},
                )
                assert count == 0
        pg_app = app_for(dataclasses.replace(settings, search_backend="postgres"))
        found = pg_app.test_client().get(f"/api/search?q={CANARY}").get_json()
        assert found["total"] == 0
        # The title as published: found by its other words, not by the withheld ones.
        assert pg_app.test_client().get("/api/search?q=title:zyxwhistle").get_json()["total"] == 0
        by_title = pg_app.test_client().get("/api/search?q=title:shelters")
        assert by_title.get_json()["total"] == 3 and not leaks(by_title.get_data())
        answer = pg_app.test_client().get("/api/search?q=detained")
        assert [h["speaker"]["name"] for h in answer.get_json()["results"]] == ["Public commenter 1"]
        assert not leaks(answer.get_data())

    # The public recording and the clip: the name is silent, the speech around it is not.
    recording = after[f"/meetings/{slug}/recordings/0.flac"]
    assert recording != original
    assert rms(recording, CANARY_SPAN[0] + 0.05, CANARY_SPAN[1] - 0.05) < 1e-3
    assert rms(recording, 1.0, 3.5) > 0.01 and rms(recording, 6.6, 8.0) > 0.01
    clip = fetch(public, f"/excerpts/{excerpt}/clip.m4a").data
    clip_start = 4.0 - 0.25  # the clip's pad
    assert rms(clip, CANARY_SPAN[0] - clip_start + 0.05, CANARY_SPAN[1] - clip_start - 0.05) < 1e-3
    assert rms(clip, 6.6 - clip_start, 8.0 - clip_start) > 0.01

    # The original: curators only, each access on the record.
    assert fetch(public, f"/admin/meetings/{slug}/recordings/0/original").status_code in (302, 303, 401, 403)
    assert fetch(curator, f"/admin/meetings/{slug}/recordings/0/original").data == original
    with sessions() as session:
        accesses = session.scalars(select(AuditEvent).where(AuditEvent.action == "original-access")).all()
        assert len(accesses) == 1 and accesses[0].target == f"meeting:{slug}"


def test_a_withheld_voice_is_silent_in_every_turn(archive, sessions) -> None:  # type: ignore[no-untyped-def]
    app, slug, excerpt = archive["app"], archive["meeting"], archive["excerpt"]
    curator = app.test_client()
    sign_in(curator, sessions, "curator")
    _post(
        curator,
        f"/admin/meetings/{slug}/privacy/consent",
        {"label": "SPEAKER_01", "consent": "voice-withheld", **WHO},
        slug,
    )
    public = app.test_client()
    page = public.get(f"/meetings/{slug}").get_data(as_text=True)
    assert "audio is withheld" in page and PERSON in page  # named (her consent allows it), but not heard
    recording = fetch(public, f"/meetings/{slug}/recordings/0.flac").data
    assert rms(recording, 4.05, 8.45) < 1e-3  # her whole turn
    assert rms(recording, 1.0, 3.5) > 0.01 and rms(recording, 8.7, 10.5) > 0.01  # the chair, heard
    clip = fetch(public, f"/excerpts/{excerpt}/clip.m4a").data
    assert rms(clip, 0.35, 4.4) < 1e-3
