"""Kept pages (archive/web/page_cache.py): served to visitors again, stale the moment what they show changes."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from archive.search.index import index_meeting, open_backend
from tests.factories.accounts import sign_in
from tests.factories.meetings import Line, add_meeting

SLUG = "2024-02-07-comment"
PAGE = f"/meetings/{SLUG}"


@pytest.fixture
def archive(settings, sessions):  # type: ignore[no-untyped-def]
    add_meeting(
        sessions,
        SLUG,
        [
            Line("I want to feel safe driving to the grocery store.", 20.0, 26.5, "Rosa", "public commenter"),
            Line("Thank you for coming tonight, Rosa Alvarez.", 30.0, 34.0, "Chair", "member"),
        ],
        title="Public comment on policing",
    )
    with sessions() as session:
        index_meeting(open_backend(settings), session, SLUG)
    return settings


def write_unseen(settings, sql: str) -> None:  # type: ignore[no-untyped-def]
    """A change made behind the archive's back (a plain engine, without the content-version hook): only a page
    rendered again could show it, so seeing the old page proves it was kept."""
    engine = create_engine(settings.sqlalchemy_url)
    with engine.begin() as connection:
        connection.execute(text(sql))
    engine.dispose()


# The meeting page, the captions track every visitor's player asks for with it, a download, the API's meeting.
KEPT = [PAGE, f"{PAGE}.vtt", f"{PAGE}.txt", f"/api/meetings/{SLUG}"]


@pytest.mark.parametrize("path", KEPT)
def test_a_visitor_is_given_the_kept_page(archive, app_for, path: str) -> None:  # type: ignore[no-untyped-def]
    client = app_for(archive).test_client()
    first = client.get(path)
    assert first.status_code == 200 and "grocery store" in first.get_data(as_text=True)
    write_unseen(archive, "UPDATE segments SET text = 'Rewritten behind our back'")
    again = client.get(path)
    assert again.get_data() == first.get_data()
    assert "Cookie" in again.headers["Vary"] and "Set-Cookie" not in again.headers
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]


def test_any_write_through_the_archive_makes_kept_pages_stale(archive, sessions, app_for) -> None:  # type: ignore[no-untyped-def]
    from archive.curation.review import mark_reviewed

    client = app_for(archive).test_client()
    assert "not reviewed by a person" in client.get(PAGE).get_data(as_text=True)
    with sessions() as session, session.begin():
        mark_reviewed(session, SLUG, by="Ana Curator")
    assert "<strong>Reviewed</strong> by Ana Curator" in client.get(PAGE).get_data(as_text=True)


@pytest.mark.parametrize("path", KEPT)
def test_a_redaction_reaches_the_kept_page_at_once(archive, sessions, app_for, path: str) -> None:  # type: ignore[no-untyped-def]
    from archive.privacy.ledger import redact_phrase

    client = app_for(archive).test_client()
    assert "Rosa Alvarez" in client.get(path).get_data(as_text=True)
    with sessions() as session, session.begin():
        redact_phrase(session, SLUG, "Rosa Alvarez", reason="asked", requested_by="Rosa", approved_by="Ana", user=None)
    assert "Rosa Alvarez" not in client.get(path).get_data(as_text=True)


def test_a_change_removes_the_pages_of_earlier_content(archive, sessions, app_for) -> None:  # type: ignore[no-untyped-def]
    from archive.privacy.ledger import redact_phrase

    app = app_for(archive)
    folder = app.extensions["page_cache"].folder
    app.test_client().get(PAGE)
    assert any(b"Rosa Alvarez" in path.read_bytes() for path in folder.iterdir())
    with sessions() as session, session.begin():
        redact_phrase(session, SLUG, "Rosa Alvarez", reason="asked", requested_by="Rosa", approved_by="Ana", user=None)
    signed_in = app.test_client()
    signed_in.set_cookie(app.config["SESSION_COOKIE_NAME"], "anyone")  # never served a kept page, but it clears
    signed_in.get(PAGE)
    assert not [path for path in folder.iterdir() if b"Rosa Alvarez" in path.read_bytes()]


def test_search_pages_follow_the_index(archive, app_for) -> None:  # type: ignore[no-untyped-def]
    client = app_for(archive).test_client()
    assert "grocery" in client.get("/search?q=grocery").get_data(as_text=True)
    assert client.get("/api/search?q=grocery").get_json()["total"] == 1
    open_backend(archive).remove_meeting(SLUG)  # the index alone changes: no database write at all
    assert client.get("/api/search?q=grocery").get_json()["total"] == 0
    assert "<mark>grocery</mark>" not in client.get("/search?q=grocery").get_data(as_text=True)


def test_signed_in_people_never_get_a_kept_page(archive, sessions, app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for(archive)
    visitor, curator = app.test_client(), app.test_client()
    visitor.get(PAGE)  # kept
    sign_in(curator, sessions, "curator")
    theirs = curator.get(PAGE).get_data(as_text=True)
    assert "Sign out" in theirs
    assert "Sign out" not in visitor.get(PAGE).get_data(as_text=True)  # and theirs was not kept for visitors


def test_a_page_that_starts_a_session_is_not_kept(archive, app_for) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    # With an editor token the excerpt form (and its CSRF token, in a new session) is offered to everyone.
    settings = dataclasses.replace(archive, editor_token="a-long-editor-token-for-tests")
    app = app_for(settings)
    response = app.test_client().get(PAGE)
    assert response.status_code == 200 and "Set-Cookie" in response.headers
    assert list(app.extensions["page_cache"].folder.iterdir()) == []


def test_no_cache_when_switched_off(archive, app_for) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    app = app_for(dataclasses.replace(archive, page_cache_mb=0))
    client = app.test_client()
    client.get(PAGE)
    write_unseen(archive, "UPDATE meetings SET title = 'Renamed behind our back'")
    assert "Renamed behind our back" in client.get(PAGE).get_data(as_text=True)
    assert "page_cache" not in app.extensions


def test_processes_sharing_a_folder_serve_each_others_pages(archive, app_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from archive import create_app

    first, second = (create_app(archive, tmp_path / "pages") for _ in range(2))  # as two server processes
    try:
        rendered = first.test_client().get(PAGE).get_data()
        write_unseen(archive, "UPDATE meetings SET title = 'Renamed behind our back'")
        assert second.test_client().get(PAGE).get_data() == rendered  # kept by the first, served by the second
    finally:
        for app in (first, second):
            app.extensions["sessions"].kw["bind"].dispose()


def test_the_store_keeps_to_its_budget(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from archive.web.page_cache import KeptPage, PageStore

    store = PageStore(tmp_path, budget_bytes=11_000)
    for n in range(5):
        store.put((n,), KeptPage(b"x" * 2_000, 200, [("Content-Type", "text/html")]))
    assert store.get((0,)) == KeptPage(b"x" * 2_000, 200, [("Content-Type", "text/html")])  # and now recently used
    store.put((5,), KeptPage(b"x" * 2_000, 200, []))  # over budget: the least recently used go first
    assert sum(path.stat().st_size for path in tmp_path.iterdir()) <= 11_000 * 3 // 4
    kept = [n for n in range(6) if store.get((n,)) is not None]
    assert 0 in kept and 5 in kept and 1 not in kept
    store.put(("huge",), KeptPage(b"x" * 5_000, 200, []))  # over a quarter of the budget: never kept
    assert store.get(("huge",)) is None


def test_a_store_that_cannot_write_still_serves_the_page(archive, app_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from archive import create_app

    folder = tmp_path / "pages"
    app = create_app(archive, folder)
    try:
        folder.rmdir()
        folder.write_text("not a folder")  # the store cannot write here
        response = app.test_client().get(PAGE)
        assert response.status_code == 200 and "Public comment on policing" in response.get_data(as_text=True)
    finally:
        app.extensions["sessions"].kw["bind"].dispose()


def test_kept_pages_live_in_memory_unless_tmpdir_says_where(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from archive.web import page_cache

    memory = tmp_path / "shm"
    memory.mkdir()
    monkeypatch.setattr(page_cache, "MEMORY_FOLDER", memory)
    monkeypatch.delenv("TMPDIR", raising=False)
    assert page_cache.new_pages_folder().parent == memory
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    monkeypatch.setenv("TMPDIR", str(chosen))
    monkeypatch.setattr(page_cache.tempfile, "tempdir", None)  # tempfile reads TMPDIR once, then remembers
    assert page_cache.new_pages_folder().parent == chosen
    monkeypatch.delenv("TMPDIR")
    monkeypatch.setattr(page_cache, "MEMORY_FOLDER", tmp_path / "absent")
    monkeypatch.setattr(page_cache.tempfile, "tempdir", str(tmp_path))
    assert page_cache.new_pages_folder().parent == tmp_path  # no memory folder: the system's temporary folder


# --- pages kept at start (testimony serve) ---------------------------------------------------------------


def test_pages_kept_at_start_are_served_by_the_server_processes(archive, sessions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from archive import create_app
    from archive.web.page_cache import keep_meeting_pages

    add_meeting(sessions, "2023-05-10-regular", [Line("Public comment is closed.", 1.0, 2.0, "Chair", "member")])
    pages = tmp_path / "pages"
    apps = [create_app(archive, pages) for _ in range(2)]  # as the server's process, then one it forks
    try:
        assert keep_meeting_pages(apps[0], "http://archive.example", 0) == (0, 2)  # no time: nothing kept
        assert list(pages.iterdir()) == []
        assert keep_meeting_pages(apps[0], "http://archive.example", 60) == (2, 2)
        assert len(list(pages.iterdir())) == 2
        write_unseen(archive, "UPDATE segments SET text = 'Rewritten behind the archive''s back.'")
        client = apps[1].test_client()
        kept = client.get(PAGE, base_url="http://archive.example").get_data(as_text=True)
        assert "grocery store" in kept and "Rewritten" not in kept  # served as kept, not rendered again
        # Pages are kept under the address visitors use; another address is rendered for itself.
        elsewhere = client.get(PAGE, base_url="http://127.0.0.1:5000").get_data(as_text=True)
        assert "Rewritten" in elsewhere
    finally:
        for app in apps:
            app.extensions["sessions"].kw["bind"].dispose()


@pytest.mark.parametrize(
    ("host", "public_url", "address"),
    [
        ("127.0.0.1", "", "http://127.0.0.1:5000"),
        ("::1", "", "http://[::1]:5000"),
        ("0.0.0.0", "https://archive.example", "https://archive.example"),
        ("0.0.0.0", "", None),  # visitors use a name the server cannot know
    ],
)
def test_testimony_serve_keeps_pages_at_the_address_visitors_use(
    archive, tmp_path, capsys, host, public_url, address
) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from archive import create_app
    from archive.web.server import keep_pages_at_start

    pages = tmp_path / "pages"
    pages.mkdir()
    told: list[str] = []
    keep_pages_at_start(dataclasses.replace(archive, public_url=public_url), pages, host, 5000, told.append)
    said = "\n".join(told)
    if address is None:
        assert "no meeting pages kept at start: set TESTIMONY_PUBLIC_URL" in said
        assert list(pages.iterdir()) == []
        return
    assert "kept the pages of 1 of 1 meetings" in said
    write_unseen(archive, "UPDATE segments SET text = 'Rewritten behind the archive''s back.'")
    app = create_app(archive, pages)
    try:
        body = app.test_client().get(PAGE, base_url=address).get_data(as_text=True)
    finally:
        app.extensions["sessions"].kw["bind"].dispose()
    assert "grocery store" in body and "Rewritten" not in body  # the page kept at start, at that address


def test_no_pages_are_kept_at_start_when_told_not_to(archive, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from archive.web.server import keep_pages_at_start

    pages = tmp_path / "pages"
    pages.mkdir()
    told: list[str] = []
    keep_pages_at_start(dataclasses.replace(archive, warm_seconds=0), pages, "127.0.0.1", 5000, told.append)
    keep_pages_at_start(dataclasses.replace(archive, page_cache_mb=0), pages, "127.0.0.1", 5000, told.append)
    assert told == []
    assert list(pages.iterdir()) == []


def test_extra_arguments_cost_no_rendering(archive, app_for) -> None:  # type: ignore[no-untyped-def]
    """Issue 17: any extra URL parameter bypassed the kept pages (90 req/s against 334 cached). The page is kept
    under its canonical address: the arguments its view reads, sorted; anything else changes nothing."""
    client = app_for(archive).test_client()
    search = client.get("/search?q=grocery&sort=newest")
    meeting = client.get(f"{PAGE}?t=20")
    api = client.get("/api/search?q=grocery")
    write_unseen(archive, "UPDATE segments SET text = 'Rewritten behind our back'")  # a rendering would show it
    for n in range(3):
        assert client.get(f"/search?sort=newest&utm_source=x&q=grocery&bust={n}").data == search.data
        assert client.get(f"{PAGE}?t=20&bust={n}").data == meeting.data
        assert client.get(f"/api/search?bust={n}&q=grocery").data == api.data
    # An argument the view reads is part of the key: another second is another page.
    assert client.get(f"{PAGE}?t=30").status_code == 200
    assert b"Rewritten behind our back" in client.get(f"{PAGE}?t=30").data


def test_a_killed_servers_kept_pages_are_removed_at_the_next_start(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 17: a killed server left its kept pages in /dev/shm (memory, until the machine restarts)."""
    import os
    import subprocess
    import sys

    from archive.web.page_cache import new_pages_folder, remove_abandoned_folders

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = tmp_path / f"testimony-pages-{int(dead.stdout)}-abcd"
    abandoned.mkdir()
    (abandoned / "page").write_bytes(b"x" * 1000)
    alive = new_pages_folder()  # this process's: still serving
    assert alive.name.startswith(f"testimony-pages-{os.getpid()}-")
    assert remove_abandoned_folders() == 1
    assert not abandoned.exists() and alive.exists()
