"""The public pages through Flask's test client: every route, escaping, 404s, media with range requests."""

from __future__ import annotations

import re

import pytest

from tests.factories.media import FIXTURES
from tests.factories.meetings import Line, add_meeting

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def site(settings, sessions, app_for, runner):  # type: ignore[no-untyped-def]
    """An archive with a real recording (ingested, not transcribed) and factory segments, and its test client."""
    from archive.cli.main import main
    from archive.search.index import index_meeting, open_backend

    result = runner.invoke(
        main,
        [
            "ingest",
            str(FIXTURES / "jfk.flac"),
            "--body",
            "Council",
            "--title",
            "Inaugural",
            "--date",
            "1961-01-20",
            "--no-transcribe",
        ],
    )
    assert result.exit_code == 0, result.output
    add_meeting(
        sessions,
        "2024-02-07-comment",
        [
            Line("I want to feel safe driving to the grocery store.", 20.0, 26.5, XSS, "public commenter", "testimony"),
            Line(
                "You're here illegally and you're worried about being safe?",
                3721.4,
                3726.0,
                "Deputy Dan",
                "member",
                "remark",
                ["hot-mic"],
            ),
        ],
        title="Public comment <b>on</b> policing",
    )
    with sessions() as session:
        index_meeting(open_backend(settings), session, "2024-02-07-comment")
    return app_for(settings).test_client()


def test_home_lists_recent_meetings_and_a_search_box(site) -> None:  # type: ignore[no-untyped-def]
    response = site.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'role="search"' in html and 'name="q"' in html
    assert "Public comment &lt;b&gt;on&lt;/b&gt; policing" in html
    assert "Inaugural" in html
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


def test_the_meeting_page_escapes_names_and_text(site) -> None:  # type: ignore[no-untyped-def]
    html = site.get("/meetings/2024-02-07-comment").get_data(as_text=True)
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "1:02:01" in html and 'href="/meetings/2024-02-07-comment?t=3721"' in html
    assert "<strong>Machine transcript, not reviewed by a person:</strong> it may contain errors." in html


def test_a_search_within_the_meeting(site) -> None:  # type: ignore[no-untyped-def]
    html = site.get("/meetings/2024-02-07-comment").get_data(as_text=True)
    assert '<input type="hidden" name="meeting" value="2024-02-07-comment">' in html
    found = site.get("/search", query_string={"q": "safe", "meeting": "2024-02-07-comment"}).get_data(as_text=True)
    assert "2 results" in found
    elsewhere = site.get("/search", query_string={"q": "safe", "meeting": "1961-01-20-inaugural"})
    assert "0 results" in elsewhere.get_data(as_text=True)


def test_the_meeting_page_plays_its_recording_with_captions(site) -> None:  # type: ignore[no-untyped-def]
    html = site.get("/meetings/1961-01-20-inaugural?t=7").get_data(as_text=True)
    assert (
        '<audio controls preload="metadata" data-player data-start="7.0" '
        'src="/meetings/1961-01-20-inaugural/recordings/0.flac#t=7.0">'
    ) in html
    assert 'src="/meetings/1961-01-20-inaugural.vtt"' in html


def test_media_is_served_with_ranges_and_revalidated(site) -> None:  # type: ignore[no-untyped-def]
    with site.get("/meetings/1961-01-20-inaugural/recordings/0.flac") as whole:  # streamed: close it
        whole.get_data()
    assert whole.status_code == 200
    assert whole.headers["Content-Type"] == "audio/flac"
    assert whole.data == (FIXTURES / "jfk.flac").read_bytes()
    # Revalidated by ETag, not kept for a year: a redaction made later must reach caches at once.
    assert whole.headers["Cache-Control"] == "public, no-cache"
    etag = whole.headers["ETag"]
    with site.get("/meetings/1961-01-20-inaugural/recordings/0.flac", headers={"If-None-Match": etag}) as again:
        again.get_data()
    assert again.status_code == 304
    with site.get("/meetings/1961-01-20-inaugural/recordings/0.flac", headers={"Range": "bytes=100-199"}) as part:
        part.get_data()
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(whole.data)}"
    assert part.data == whole.data[100:200]
    assert site.get("/meetings/1961-01-20-inaugural/recordings/0.mp3").status_code == 404
    assert site.get("/meetings/1961-01-20-inaugural/recordings/1.flac").status_code == 404
    assert site.get("/meetings/1961-01-20-inaugural/recordings/99999999999999999999.ogg").status_code == 404


@pytest.mark.parametrize(
    ("fmt", "mimetype"),
    [
        ("vtt", "text/vtt"),
        ("srt", "application/x-subrip"),
        ("txt", "text/plain"),
        ("json", "application/json"),
        ("csv", "text/csv"),
    ],
)
def test_transcript_downloads(site, fmt, mimetype) -> None:  # type: ignore[no-untyped-def]
    response = site.get(f"/meetings/2024-02-07-comment.{fmt}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert "grocery store" in response.get_data(as_text=True)
    if fmt != "json":  # text needs its encoding said (JSON is UTF-8 by definition)
        assert response.mimetype_params["charset"] == "utf-8", response.content_type


def test_the_rttm_download_says_who_spoke_when(site) -> None:  # type: ignore[no-untyped-def]
    response = site.get("/meetings/2024-02-07-comment.rttm")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == 'attachment; filename="2024-02-07-comment.rttm"'
    lines = response.get_data(as_text=True).splitlines()
    assert lines[-1].startswith("SPEAKER 2024-02-07-comment 1 3721.400 4.600 ")
    assert "Deputy_Dan" in lines[-1]
    assert 'href="/meetings/2024-02-07-comment.rttm"' in site.get("/meetings/2024-02-07-comment").get_data(as_text=True)


def test_search_page_shows_highlighted_hits_with_timestamp_links(site) -> None:  # type: ignore[no-untyped-def]
    html = site.get("/search", query_string={"q": '"here illegally"'}).get_data(as_text=True)
    assert "1 result" in html
    assert "<mark>here</mark> <mark>illegally</mark>" in html
    line = re.search(r'href="/meetings/2024-02-07-comment\?t=3721#(s\d+)"', html)  # the second and the line
    assert line is not None
    assert f'id="{line.group(1)}"' in site.get("/meetings/2024-02-07-comment").get_data(as_text=True)
    assert 'value="&#34;here illegally&#34;"' in html  # the box keeps the query
    facets = site.get("/search", query_string={"q": "safe"}).get_data(as_text=True)
    assert "Deputy Dan</a> (1)" in facets and "&lt;img src=x onerror=alert(1)&gt;</a> (1)" in facets


def test_search_page_names_bodies_and_meetings_as_they_are_now(site, settings, sessions, app_for) -> None:  # type: ignore[no-untyped-def]
    """The search page keeps the bodies and meeting titles it names between searches, under content_version: a
    meeting renamed and a body added show on the next search (no page cache here: every search is rendered)."""
    import dataclasses

    from sqlalchemy import update

    from archive.db.models import Body, Meeting

    site = app_for(dataclasses.replace(settings, page_cache_mb=0)).test_client()
    before = site.get("/search", query_string={"q": "safe"}).get_data(as_text=True)
    assert "Public comment &lt;b&gt;on&lt;/b&gt; policing</a> (2)" in before  # the meeting facet, by title
    assert "Zoning Board" not in before
    with sessions() as session, session.begin():
        session.execute(update(Meeting).where(Meeting.slug == "2024-02-07-comment").values(title="Renamed <i>"))
        session.add(Body(name="Zoning Board", slug="zoning-board"))
    after = site.get("/search", query_string={"q": "safe"}).get_data(as_text=True)
    assert "Renamed &lt;i&gt;</a> (2)" in after and "policing" not in after
    assert '<option value="zoning-board">Zoning Board</option>' in after
    filtered = site.get("/search", query_string={"q": "safe", "meeting": "2024-02-07-comment"}).get_data(as_text=True)
    assert "Meeting: <strong>Renamed &lt;i&gt;</strong>" in filtered  # the meeting filtered by, by its new title


def test_search_page_without_results_and_with_bad_input(site) -> None:  # type: ignore[no-untyped-def]
    empty = site.get("/search", query_string={"q": "zebra"})
    assert empty.status_code == 200 and "Try fewer words" in empty.get_data(as_text=True)
    bad = site.get("/search", query_string={"q": "safe", "from": "yesterday"})
    assert bad.status_code == 400 and "from must be a date" in bad.get_data(as_text=True)
    # The refused date is said in the message, never put back into the date field (HTML allows only a date).
    assert '<input name="from" type="date" value="">' in bad.get_data(as_text=True)
    kept = site.get("/search", query_string={"q": "safe", "from": "2024-01-01"}).get_data(as_text=True)
    assert '<input name="from" type="date" value="2024-01-01">' in kept
    assert site.get("/search").status_code == 200  # the form alone


def test_meetings_list_filters_by_body_and_unknown_slugs_are_404(site) -> None:  # type: ignore[no-untyped-def]
    listing = site.get("/meetings", query_string={"body": "council"}).get_data(as_text=True)
    assert "Inaugural" in listing and "policing" not in listing
    missing = site.get("/meetings/no-such-meeting")
    assert missing.status_code == 404 and "Not found" in missing.get_data(as_text=True)
    assert site.get("/meetings/no-such-meeting.vtt").status_code == 404
    assert site.get("/meetings/2024-02-07-comment.exe").status_code == 404


def test_testimony_serve_answers_over_http(site, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    temporary = tmp_path / "tmp"  # where the server's processes keep pages together
    temporary.mkdir()
    env = dict(
        os.environ,
        TESTIMONY_HOME=str(settings.home),
        TESTIMONY_DATABASE_URL=settings.database_url,
        TMPDIR=str(temporary),
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "archive.cli.main", "serve", "--port", str(port), "--processes", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q=grocery", timeout=2) as reply:
                    body = reply.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, server.stderr.read().decode() if server.poll() else "no answer"
                time.sleep(0.05)
        assert '"total": 1' in body or '"total":1' in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
            assert reply.status == 200 and "/" not in reply.headers["Server"]  # no version given away
        (folder,) = temporary.glob("testimony-pages-*")  # one for both processes
        assert len(list(folder.iterdir())) == 3  # the two meetings' pages, kept at start, and the API's answer
    finally:
        server.terminate()
        server.wait(timeout=10)
        log = server.stderr.read().decode()
        server.stderr.close()
    assert "kept the pages of 2 of 2 meetings" in log
    assert list(temporary.iterdir()) == []  # the kept pages go with the server


COMMENT = "2024-02-07-comment"


def _review(sessions, by: str | None) -> None:  # type: ignore[no-untyped-def]
    from archive.curation.review import mark_reviewed, mark_unreviewed

    with sessions() as session, session.begin():
        if by is None:
            mark_unreviewed(session, COMMENT)
        else:
            mark_reviewed(session, COMMENT, by=by)


def _notice(html: str) -> str:
    start = html.index('<p class="notice review')
    return html[start : html.index("</p>", start)]


def test_the_meeting_page_says_whether_a_person_reviewed_the_transcript(site, sessions) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    notice = _notice(site.get(f"/meetings/{COMMENT}").get_data(as_text=True))
    assert "not reviewed by a person" in notice and "Reviewed" not in notice
    assert "Found an error?" not in notice and "<a " not in notice  # no address configured: no link

    _review(sessions, "<b>x</b>")
    html = site.get(f"/meetings/{COMMENT}").get_data(as_text=True)
    notice = _notice(html)
    today = dt.datetime.now(dt.UTC).date()
    assert "<b>x</b>" not in html
    assert f'<strong>Reviewed</strong> by &lt;b&gt;x&lt;/b&gt; on <time datetime="{today.isoformat()}T' in notice
    assert f">{today.day} {today:%B %Y}</time>." in notice
    assert "not reviewed" not in notice
    api = site.get(f"/api/meetings/{COMMENT}").get_json()
    assert api["reviewed"]["by"] == "<b>x</b>" and api["reviewed"]["at"].startswith(today.isoformat())

    _review(sessions, None)
    assert "not reviewed by a person" in _notice(site.get(f"/meetings/{COMMENT}").get_data(as_text=True))
    assert site.get(f"/api/meetings/{COMMENT}").get_json()["reviewed"] is None


def test_the_report_links(site, settings, app_for) -> None:  # type: ignore[no-untyped-def]
    import dataclasses
    from urllib.parse import parse_qs, urlsplit

    from markupsafe import Markup

    def report_links(path: str, **report: str) -> list[str]:
        client = app_for(dataclasses.replace(settings, public_url="https://archive.example", **report)).test_client()
        notice = _notice(client.get(path).get_data(as_text=True))
        return [Markup(part.split('"', 1)[0]).unescape() for part in notice.split('href="')[1:]]

    assert report_links(f"/meetings/{COMMENT}", report_url="https://example.org/issues/new") == [
        "https://example.org/issues/new"
    ]

    [mailto] = report_links(f"/meetings/{COMMENT}?t=3721", report_email="errors@example.org")
    address, _, query = mailto.partition("?")
    assert address == "mailto:errors@example.org"
    assert "+" not in query and " " not in query and "%3Cb%3Eon%3C%2Fb%3E" in query  # spaces as %20, tags encoded
    fields = parse_qs(query)
    assert fields["subject"] == ["Transcript error: Public comment <b>on</b> policing (2024-02-07) at 1:02:01"]
    assert fields["body"][0].startswith(f"Page: https://archive.example/meetings/{COMMENT}?t=3721\n")

    [mailto] = report_links(f"/meetings/{COMMENT}", report_email="errors@example.org")
    subject = parse_qs(urlsplit(mailto).query)["subject"][0]
    assert subject == "Transcript error: Public comment <b>on</b> policing (2024-02-07)"

    both = report_links(f"/meetings/{COMMENT}", report_url="https://example.org/form", report_email="e@example.org")
    assert both[0] == "https://example.org/form" and both[1].startswith("mailto:e@example.org?subject=")

    # Settings that would make a dangerous link are refused by `Settings.validate` and never reach a page.
    assert report_links(f"/meetings/{COMMENT}", report_url="javascript:alert(1)") == []
    assert report_links(f"/meetings/{COMMENT}", report_email="a@example.org?bcc=b@example.org") == []


def test_search_links_read_as_url_for_builds_them(site) -> None:  # type: ignore[no-untyped-def]
    """The search page writes its facet and page links with search_url (cheaper): the same addresses."""
    from flask import url_for

    from archive.web.templating import search_url

    args = {"q": 'grocery store & <b>"', "speaker": "José O'Neil/x", "page": "2"}
    with site.application.test_request_context("/search"):
        for changes in ({"speaker": "Ana María, PhD", "page": 1}, {"page": 3}, {"meeting": "a b?c#d"}):
            assert search_url(args, **changes) == url_for("pages.search", **{**args, **changes})


def test_a_server_process_tunes_the_cycle_collector(settings, site) -> None:  # type: ignore[no-untyped-def]
    """testimony serve's processes collect cycles rarely, and never look again at what the app loaded."""
    import gc

    from archive.web.server import SERVER_GC_THRESHOLDS, server_app

    before = gc.get_threshold()
    try:
        app = server_app(settings, settings.home / "kept-pages")
        assert gc.get_threshold() == SERVER_GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
        assert app.test_client().get("/meetings/2024-02-07-comment").status_code == 200
        app.extensions["sessions"].kw["bind"].dispose()
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


@pytest.mark.parametrize("database_url", [""])  # files, not the database
def test_a_missing_media_file_is_a_503_with_a_sentence_and_check_lists_it(site, settings, runner) -> None:  # type: ignore[no-untyped-def]
    """Issue 17: a deleted media file gave a 500."""
    from archive.cli.main import main

    [stored] = (settings.home / "media").glob("??/*.flac")
    stored.unlink()
    response = site.get("/meetings/1961-01-20-inaugural/recordings/0.flac")
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "This recording&#39;s file is missing from the archive" in text or "file is missing" in text
    assert str(settings.home) not in text  # no server path
    checked = runner.invoke(main, ["check"])
    assert checked.exit_code == 1 and "missing media file" in checked.output


def test_t_alone_picks_the_line_that_starts_in_that_second_else_the_one_spoken_then() -> None:
    from archive.web.public.pages import landing_line

    lines = [
        {"id": 1, "start": 30.0, "end": 42.5},
        {"id": 2, "start": 42.04, "end": 50.0},
        {"id": 3, "start": 60.0, "end": 61.0},
    ]
    assert landing_line(lines, 42) == 2  # starts at 42.04, though line 1 is still being spoken
    assert landing_line(lines, 35) == 1  # the line being spoken
    assert landing_line(lines, 55) == 3  # between lines: the next one
    assert landing_line(lines, 99) is None
