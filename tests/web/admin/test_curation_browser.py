"""The curator's day in a real browser (chromium, 1280×800) on a fresh archive with a worker running: sign in,
upload a recording, watch the job page follow it to done, open the meeting, correct a word inline, and find the
corrected word (and no longer the old one) in search. Screenshots of the admin pages go to
test-artifacts/screenshots/admin-*.png."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from archive.config import Settings
from tests.factories.accounts import PASSWORD, add_user
from tests.factories.browser import SCREENSHOTS
from tests.factories.media import encode, speech
from tests.factories.server import served_in_thread

pytestmark = pytest.mark.slow


@pytest.fixture
def site(tmp_path: Path, app_for):  # type: ignore[no-untyped-def]
    """A fresh home served by waitress, and a `testimony worker` equivalent in a background thread."""

    from archive.home import init_home
    from archive.transcribe import make_transcriber
    from archive.worker.jobs import work

    home = tmp_path / "home"
    home.mkdir()
    settings = Settings(home=home, engine="faster-whisper", threads=2)
    sessions = init_home(settings)
    add_user(sessions, "curator", "cora@example.org")
    add_user(sessions, "admin", "ada@example.org")
    stop = threading.Event()
    worker = threading.Thread(
        target=work,
        args=(settings, sessions),
        kwargs={"stop": stop, "poll": 0.2, "load_transcriber": make_transcriber},
        daemon=True,
    )
    worker.start()
    with served_in_thread(app_for(settings), threads=4) as address:
        yield address
    stop.set()
    worker.join(timeout=30)
    sessions.kw["bind"].dispose()


def sign_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/admin")


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"admin-{name}.png"), full_page=True)


def test_upload_transcribe_correct_inline_and_find_the_correction(site, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    base = site
    recording = encode(speech("jfk.flac"), tmp_path / "jfk.flac", "flac", "flac")  # 11 s of real speech, ~200 KB
    errors: list[str] = []
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    sign_in(page, base, "cora@example.org")
    expect(page.locator("main a[href='/admin/meetings']")).to_have_text("Meetings")
    shot(page, "dashboard")

    page.goto(f"{base}/admin/upload")
    page.set_input_files("#recording", str(recording))
    page.fill("#body", "Inaugural Committee")
    page.fill("#title", "Inaugural address")
    page.fill("#date", "1961-01-20")
    page.select_option("#engine", "faster-whisper")
    shot(page, "upload")
    page.click("main button[type=submit]")

    # The job page polls its state: it moves from queued or running to done without a reload.
    page.wait_for_url(re.compile(r".*/admin/jobs/\d+$"))
    job_url = page.url
    assert page.locator("#job-status").inner_text() in ("queued", "running")
    expect(page.locator("#job-status")).to_have_text("done", timeout=60_000)
    expect(page.locator("#job-progress")).to_have_attribute("value", re.compile(r"^100(\.0)?$"))
    expect(page.locator("#job-done")).to_be_visible()
    assert page.url == job_url
    shot(page, "job")

    page.click("text=Open the meeting")
    page.wait_for_url(re.compile(r".*/meetings/[^/]+$"))
    slug = page.url.rsplit("/", 1)[1]
    line = page.locator("p.segment", has_text="Americans").first
    line_id = line.get_attribute("id")
    line.locator("button.curate").click()
    form = page.locator("form.curation-form")
    text = form.locator("textarea")
    expect(text).to_have_value(re.compile("Americans"))
    text.fill(text.input_value().replace("Americans", "compatriots"))
    shot(page, "meeting-edit")
    form.locator("button[value=save]").click()
    corrected = page.locator(f"#{line_id}")
    expect(corrected).to_contain_text("compatriots")
    expect(corrected.locator(".corrected")).to_be_visible()
    expect(form).to_have_count(0)  # updated in place: the form closed, the page was not reloaded
    assert "Americans" not in corrected.inner_text()

    page.goto(f"{base}/search?q=compatriots")
    expect(page.locator("main")).to_contain_text("compatriots")
    assert page.locator(f"a[href*='/meetings/{slug}']").count() >= 1
    page.goto(f"{base}/search?q=Americans")
    expect(page.locator("main")).to_contain_text("No testimony matches")

    page.goto(f"{base}/admin/meetings/{slug}/history")
    expect(page.locator(".diff del")).to_have_text(re.compile("Americans"))
    expect(page.locator(".diff ins")).to_have_text(re.compile("compatriots"))
    shot(page, "history")

    admin = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    sign_in(admin, base, "ada@example.org")
    admin.goto(f"{base}/admin/users")
    expect(admin.locator("main")).to_contain_text("cora@example.org")
    shot(admin, "users")
    admin.goto(f"{base}/admin/audit")
    expect(admin.locator("main")).to_contain_text("segment-edit")
    shot(admin, "audit")
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []
