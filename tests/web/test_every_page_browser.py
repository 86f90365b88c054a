"""Every page type of the site in a real browser (Debian's chromium), at a desktop's 1280 px and a phone's 390 px:
a screenshot of each in test-artifacts/screenshots/<page>-<width>.png, no page wider than the phone's screen,
axe-core (WCAG 2.1 AA) finds nothing serious or critical, and the correction page plays its line's audio.

One archive serves them all: a campaign site (a named member, an excerpt, the Vermont directory, an open
campaign, a supporter's unconfirmed letter) and a hearing with a real recording (11 s of speech) whose voices
nobody has named yet."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive.campaigns.letters import token_hash
from archive.config import Settings
from archive.db.models import Body, Campaign, Excerpt, Meeting, Person, Recording, Segment
from archive.db.operational import Job
from archive.media.store import MediaStore
from tests.factories.accounts import PASSWORD, add_user
from tests.factories.browser import SCREENSHOTS, assert_accessible, assert_fits_the_screen
from tests.factories.campaigns import MEETING, add_campaign_site, add_letter
from tests.factories.media import encode, speech
from tests.factories.meetings import Line, add_meeting, timed
from tests.factories.server import served_in_thread

pytestmark = pytest.mark.slow

HEARING = "2024-03-01-hearing"
WIDTHS = (1280, 390)
# The hearing's lines: on the recording's own time (jfk.flac, 11 s), in two voices nobody has named.
HEARING_LINES = [
    Line("And so my fellow Americans,", 0.0, 3.2, "first voice", label_only=True),
    Line("ask not what your country can do for you,", 3.2, 6.4, "second voice", label_only=True),
    Line("ask what you can do for your country.", 6.4, 11.0, "first voice", label_only=True),
]


@dataclass
class Site:
    base: str
    paths: dict[str, str]  # page name → path, public pages
    admin_paths: dict[str, str]  # page name → path, signed in as an admin
    segment: int  # the hearing's second line, for the correction page
    line: tuple[float, float]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, browser) -> Iterator[Site]:  # type: ignore[no-untyped-def]

    from archive import create_app
    from archive.home import init_home
    from archive.search.index import index_meeting, open_backend

    tmp = tmp_path_factory.mktemp("every-page")
    home = tmp / "home"
    home.mkdir()
    settings = Settings(home=home, threads=1)
    sessions = init_home(settings)
    add_user(sessions, "admin", "ada@example.org")
    runner = CliRunner(env={"TESTIMONY_HOME": str(home), "TESTIMONY_DATABASE_URL": "", "TESTIMONY_THREADS": "1"})
    campaign_id = add_campaign_site(sessions, runner, tmp)
    add_meeting(sessions, HEARING, HEARING_LINES, title="Hearing on public safety", date=dt.date(2024, 3, 1))
    recording = encode(speech("jfk.flac"), tmp / "jfk.wav", "wav", "pcm_s16le")
    token = secrets.token_urlsafe(24)
    with sessions() as session, session.begin():
        # The hearing's recording, stored as ingest would store it, so its route serves real audio.
        stored = session.scalars(select(Recording).join(Meeting).where(Meeting.slug == HEARING)).one()
        data = recording.read_bytes()
        stored.sha256, stored.size, stored.duration = hashlib.sha256(data).hexdigest(), len(data), 11.0
        target = MediaStore(settings.media_dir).path_for(stored.sha256, ".wav")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        hearing = session.scalars(select(Meeting).where(Meeting.slug == HEARING)).one()
        lines = session.scalars(select(Segment).where(Segment.meeting_id == hearing.id).order_by(Segment.start)).all()
        for segment in lines:
            segment.words = timed(
                segment.text, segment.start, (segment.end - segment.start) / len(segment.text.split())
            )
        segment = lines[1]
        letter = add_letter(session, campaign_id, "Sam Supporter", "sam@example.org", status="unconfirmed")
        letter.confirm_token_sha256 = token_hash(token)
        session.add(Job(kind="ingest", meeting_id=hearing.id, status="done", progress_done=11.0, progress_total=11.0))
        dan = session.scalars(select(Person).where(Person.name == "Deputy Dan")).one().id
        body = session.scalars(select(Body)).first()
        assert body is not None
        slug = session.scalars(select(Campaign.slug).where(Campaign.id == campaign_id)).one()
        excerpt_slug = session.scalars(select(Excerpt.slug).join(Meeting).where(Meeting.slug == MEETING)).one()
        session.flush()
        job = session.scalars(select(Job.id)).one()
        ids = {"segment": segment.id, "line": (segment.start, segment.end), "body": body.slug}
    backend = open_backend(settings)
    for meeting in (MEETING, HEARING):
        with sessions() as session:
            index_meeting(backend, session, meeting)
    paths = {
        "home": "/",
        "meetings": "/meetings",
        "meeting": f"/meetings/{HEARING}",
        "search": "/search?q=country",
        "speakers": "/speakers",
        "speaker": f"/speakers/{dan}",
        "excerpts": "/excerpts",
        "excerpt": f"/excerpts/{excerpt_slug}",
        "embed": f"/excerpts/{excerpt_slug}/embed",
        "campaigns": "/campaigns",
        "campaign": f"/campaigns/{slug}",
        "letter-confirm": f"/campaigns/{slug}/confirm/{token}",
        "letter-sent": f"/campaigns/{slug}/letters/sent",
        "follow": "/follow?kind=search&target=country",
        "legislators": "/legislators?town=Burlington",
        "downloads": "/downloads",
        "error": "/meetings/no-such-meeting",
        "login": "/login",
    }
    admin_paths = {
        "admin-dashboard": "/admin",
        "admin-upload": "/admin/upload",
        "admin-jobs": "/admin/jobs",
        "admin-job": f"/admin/jobs/{job}",
        "admin-meetings": "/admin/meetings",
        "admin-meeting-lines": f"/admin/meetings/{HEARING}/edit",
        "admin-history": f"/admin/meetings/{HEARING}/history",
        "admin-line-new": f"/admin/meetings/{HEARING}/lines/new",
        "admin-segment-edit": f"/admin/segments/{ids['segment']}/edit",
        "admin-overlaps": "/admin/overlaps",
        "admin-privacy": "/admin/privacy",
        "admin-meeting-privacy": f"/admin/meetings/{HEARING}/privacy",
        "admin-people": "/admin/people",
        "admin-speakers": f"/admin/meetings/{HEARING}/speakers",
        "admin-campaigns": "/admin/campaigns",
        "admin-campaign-new": "/admin/campaigns/new",
        "admin-campaign-form": f"/admin/campaigns/{slug}",
        "admin-supporters": f"/admin/campaigns/{slug}/supporters",
        "admin-users": "/admin/users",
        "admin-vocabularies": "/admin/vocabulary",
        "admin-vocabulary": f"/admin/bodies/{ids['body']}/vocabulary",
        "admin-audit": "/admin/audit",
        "admin-account": "/account",
    }
    app = create_app(settings)
    with served_in_thread(app, threads=4) as address:
        yield Site(address, paths, admin_paths, ids["segment"], ids["line"])
    app.extensions["sessions"].kw["bind"].dispose()
    sessions.kw["bind"].dispose()


@pytest.fixture(scope="module")
def pages(site: Site, browser) -> Iterator[dict[tuple[str, int], Any]]:  # type: ignore[no-untyped-def]
    """A visitor's page and a signed-in admin's page at each width (bypass_csp only lets the test add axe-core)."""
    made: dict[tuple[str, int], Any] = {}
    contexts = []
    for width in WIDTHS:
        for audience in ("visitor", "admin"):
            context = browser.new_context(viewport={"width": width, "height": 844}, bypass_csp=True)
            contexts.append(context)
            page = context.new_page()
            if audience == "admin":
                page.goto(f"{site.base}/login")
                page.fill("#login-email", "ada@example.org")
                page.fill("#login-password", PASSWORD)
                page.click("main button[type=submit]")
                page.wait_for_url(f"{site.base}/admin")
            made[(audience, width)] = page
    yield made
    for context in contexts:
        context.close()


def visit(page, base: str, name: str, path: str, width: int) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(base + path)
    assert response is not None
    assert response.status == (404 if name == "error" else 200), (name, response.status)
    assert "/login" not in page.url or name == "login"  # a signed-in page really was the page, not the login
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
    if width <= 390:
        assert_fits_the_screen(page)
    # The embeddable player is a quote, a caption and a player: 9 of axe's rules apply to it (27 to the excerpt).
    assert_accessible(page, rules_that_apply=9 if name == "embed" else 10)


PUBLIC = [
    "home",
    "meetings",
    "meeting",
    "search",
    "speakers",
    "speaker",
    "excerpts",
    "excerpt",
    "embed",
    "campaigns",
    "campaign",
    "letter-confirm",
    "letter-sent",
    "follow",
    "legislators",
    "downloads",
    "error",
    "login",
]
ADMIN = [
    "admin-dashboard",
    "admin-upload",
    "admin-jobs",
    "admin-job",
    "admin-meetings",
    "admin-meeting-lines",
    "admin-history",
    "admin-line-new",
    "admin-segment-edit",
    "admin-overlaps",
    "admin-privacy",
    "admin-meeting-privacy",
    "admin-people",
    "admin-speakers",
    "admin-campaigns",
    "admin-campaign-new",
    "admin-campaign-form",
    "admin-supporters",
    "admin-users",
    "admin-vocabularies",
    "admin-vocabulary",
    "admin-audit",
    "admin-account",
]


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_page_fits_a_phone_and_is_accessible(site: Site, pages, name: str) -> None:  # type: ignore[no-untyped-def]
    assert set(PUBLIC) == set(site.paths)
    for width in WIDTHS:
        visit(pages[("visitor", width)], site.base, name, site.paths[name], width)


@pytest.mark.parametrize("name", ADMIN)
def test_every_admin_page_fits_a_phone_and_is_accessible(site: Site, pages, name: str) -> None:  # type: ignore[no-untyped-def]
    assert set(ADMIN) == set(site.admin_paths)
    for width in WIDTHS:
        visit(pages[("admin", width)], site.base, name, site.admin_paths[name], width)


def test_the_correction_page_plays_the_line_beside_its_text(site: Site, pages) -> None:  # type: ignore[no-untyped-def]
    start, end = site.line
    for width in WIDTHS:
        page = pages[("admin", width)]
        page.goto(f"{site.base}/admin/segments/{site.segment}/edit")
        audio = page.locator(".correction audio#line-audio")
        assert audio.count() == 1 and audio.get_attribute("controls") is not None
        assert audio.get_attribute("src").endswith(f"#t={start:.2f},{end:.2f}")
        page.wait_for_function("() => document.querySelector('#line-audio').readyState >= 1", timeout=10_000)
        # The media fragment starts the player at the line and stops it at the line's end.
        assert abs(page.evaluate("document.querySelector('#line-audio').currentTime") - start) < 0.1
        page.evaluate("document.querySelector('#line-audio').play()")
        page.wait_for_function(
            f"() => document.querySelector('#line-audio').currentTime > {start + 0.5}", timeout=10_000
        )
        page.wait_for_function("() => document.querySelector('#line-audio').paused", timeout=10_000)
        assert start + 0.5 < page.evaluate("document.querySelector('#line-audio').currentTime") <= end + 0.3
        listen, form = page.locator(".correction .listen").bounding_box(), page.locator("#text").bounding_box()
        assert listen is not None and form is not None
        if width >= 1280:  # beside the text on a desktop
            assert listen["x"] + listen["width"] <= form["x"] and listen["y"] < form["y"] + form["height"]
        else:  # above it on a phone
            assert listen["y"] + listen["height"] <= form["y"]


DARK = ["home", "meeting", "search", "excerpt", "campaign", "admin-upload", "admin-meeting-lines", "admin-segment-edit"]


def test_dark_mode_keeps_the_main_pages_accessible(site: Site, browser) -> None:  # type: ignore[no-untyped-def]
    """With the reader's system in dark mode the tokens change, and contrast must hold (screenshots *-dark-390.png)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True, color_scheme="dark")
    page = context.new_page()
    page.goto(f"{site.base}/login")
    page.fill("#login-email", "ada@example.org")
    page.fill("#login-password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site.base}/admin")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(21, 24, 29)"  # --bg of the dark scheme: the tokens really switched
    for name in DARK:
        path = site.paths.get(name) or site.admin_paths[name]
        page.goto(site.base + path)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-dark-390.png"), full_page=True)
        assert_fits_the_screen(page)
        assert_accessible(page)
    context.close()
