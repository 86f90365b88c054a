"""Excerpts on the site: the form (CSRF, editor token, idempotency), the page, its meta, the API; both databases."""

from __future__ import annotations

import dataclasses
import json
import re
import stat
from html.parser import HTMLParser

import pytest
from flask import session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select

from archive.db.models import Excerpt, Segment
from archive.excerpts.manage import create_excerpt, verify
from tests.factories.meetings import Line, add_meeting, timed

SLUG = "2024-02-07-comment"
TOKEN = "editor-token-for-tests"
XSS = '"><script>alert(1)</script>'


@pytest.fixture
def meeting(sessions) -> str:  # type: ignore[no-untyped-def]
    add_meeting(
        sessions,
        SLUG,
        [
            Line("I only want to feel safe driving to the grocery store.", 30.0, 35.5, f"Rosa {XSS}", "commenter"),
            Line("You're here illegally and you're worried about being safe?", 41.0, 45.0, "Deputy Dan", "member"),
        ],
        title="Public comment <b>on</b> policing",
    )
    with sessions() as session, session.begin():
        rosa, deputy = session.scalars(select(Segment).order_by(Segment.start)).all()
        rosa.words = timed(rosa.text, 30.0)
        deputy.words = timed(deputy.text, 41.0, 0.4)
    return SLUG


@pytest.fixture
def editor_settings(settings):  # type: ignore[no-untyped-def]
    return dataclasses.replace(settings, editor_token=TOKEN)


@pytest.fixture
def client(editor_settings, meeting, app_for):  # type: ignore[no-untyped-def]
    return app_for(editor_settings).test_client()


def csrf_and_key(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The hidden fields of the meeting page's excerpt form (its CSRF token and idempotency key)."""
    html = client.get(f"/meetings/{SLUG}").get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="(csrf_token|key)" value="([^"]+)"', html))
    assert set(fields) == {"csrf_token", "key"}
    return fields


def form(client, **values: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    data = {"meeting": SLUG, "start": "0:00:41", "end": "42.5", "title": "Hot mic", "note": "", "token": TOKEN}
    data.update(csrf_and_key(client))
    data.update(values)
    return data


def count(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(func.count(Excerpt.id)))


def make(sessions, start: float = 41.0, end: float = 42.5, title: str = "Hot mic", note: str | None = None) -> str:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        return create_excerpt(session, SLUG, start, end, title, note=note, created_by="test").slug


# --- the form -----------------------------------------------------------------------------------------------


def test_the_form_makes_an_excerpt_snapped_to_words_and_redirects_to_it(client, sessions) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/excerpts", data=form(client, note="For the letter to the council"))
    assert response.status_code == 303
    slug = response.headers["Location"].rsplit("/", 1)[1]
    with sessions() as session:
        excerpt = session.scalar(select(Excerpt).where(Excerpt.slug == slug))
        assert (excerpt.start, excerpt.end) == (41.0, 42.5)  # "You're here illegally and"
        assert excerpt.note == "For the letter to the council"
        assert excerpt.created_by == "site (editor token)"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You&#39;re here illegally and" in page


def test_the_meeting_page_offers_the_form_only_with_an_editor_token(settings, meeting, app_for) -> None:  # type: ignore[no-untyped-def]
    without = app_for(settings).test_client()
    html = without.get(f"/meetings/{SLUG}").get_data(as_text=True)
    assert 'id="excerpt-form"' not in html and "excerpt.js" not in html
    with_token = app_for(dataclasses.replace(settings, editor_token=TOKEN)).test_client()
    html = with_token.get(f"/meetings/{SLUG}").get_data(as_text=True)
    assert 'id="excerpt-form"' in html and 'type="password"' in html and "excerpt.js" in html
    assert 'name="csrf_token"' in html


def test_a_post_without_the_csrf_token_is_refused(client, sessions) -> None:  # type: ignore[no-untyped-def]
    data = form(client)
    del data["csrf_token"]
    response = client.post("/excerpts", data=data)
    assert response.status_code == 400
    assert "reload the page" in response.get_data(as_text=True)
    bad = client.post("/excerpts", data=form(client, csrf_token="forged"))
    assert bad.status_code == 400
    assert count(sessions) == 0


def test_a_wrong_editor_token_is_refused_and_nothing_is_stored(client, sessions) -> None:  # type: ignore[no-untyped-def]
    for token in ("wrong", ""):
        response = client.post("/excerpts", data=form(client, token=token, title="Kept <title>"))
        assert response.status_code == 403
        html = response.get_data(as_text=True)
        # The meeting page again, the form open and refilled with the reason — never the token.
        assert 'role="alert"' in html and "token" in html and '<details id="make-excerpt" open>' in html
        assert 'value="Kept &lt;title&gt;"' in html and "wrong" not in html.split('id="excerpt-token"')[1][:80]
    assert count(sessions) == 0


def test_with_no_editor_token_configured_creation_is_refused(settings, meeting, app_for, sessions) -> None:  # type: ignore[no-untyped-def]
    client = app_for(settings).test_client()
    # A valid CSRF token, as a forged or stale form would carry: the form itself is not offered here.
    with client.session_transaction() as cookie:
        cookie["csrf_token"] = "x" * 40
    with client.application.test_request_context():
        session["csrf_token"] = "x" * 40
        token = generate_csrf()
    data = {"meeting": SLUG, "start": "41", "end": "42", "title": "t", "token": "", "csrf_token": token}
    response = client.post("/excerpts", data=data)
    assert response.status_code == 403
    assert "switched off" in response.get_data(as_text=True)
    assert count(sessions) == 0


def test_a_form_sent_twice_makes_one_excerpt(client, sessions) -> None:  # type: ignore[no-untyped-def]
    data = form(client)
    first = client.post("/excerpts", data=data)
    second = client.post("/excerpts", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count(sessions) == 1
    other = client.post("/excerpts", data=form(client))  # a fresh page load is a new excerpt
    assert other.headers["Location"] != first.headers["Location"]
    assert count(sessions) == 2


@pytest.mark.parametrize(
    ("values", "status", "message"),
    [
        ({"start": "soon"}, 400, "start: &#39;soon&#39; is not a time"),
        ({"start": ""}, 400, "start: give a time"),
        ({"start": "45", "end": "41"}, 400, "must end after it starts"),
        ({"start": "0:00:01", "end": "0:00:05"}, 400, "no words between"),
        ({"title": "  "}, 400, "needs a title"),
        ({"note": "x" * 5001}, 400, "the most is 5000"),
    ],
)
def test_bad_input_shows_the_meeting_page_with_the_reason(client, sessions, values, status, message) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/excerpts", data=form(client, **values))
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert message in html
    assert "Public comment &lt;b&gt;on&lt;/b&gt; policing" in html  # the meeting page, not a bare error
    assert count(sessions) == 0


def test_an_unknown_meeting_is_refused(client, sessions) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/excerpts", data=form(client, meeting="no-such-meeting"))
    assert response.status_code == 404
    assert "no meeting with slug" in response.get_data(as_text=True)
    assert count(sessions) == 0


# --- the page -----------------------------------------------------------------------------------------------


class Meta(HTMLParser):
    """The <meta property|name=… content=…> tags of a page, as a browser or a crawler reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, str] = {}
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and (values.get("property") or values.get("name")):
            self.tags[values.get("property") or values.get("name") or ""] = values.get("content") or ""
        if tag == "script":
            self.scripts.append(values)


def meta(html: str) -> Meta:
    parser = Meta()
    parser.feed(html)
    return parser


def test_the_excerpt_page_shows_the_quote_by_voice_with_its_context(client, sessions) -> None:  # type: ignore[no-untyped-def]
    slug = make(sessions, 35.0, 42.0, title="Reply", note="Line one\nLine two")
    response = client.get(f"/excerpts/{slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "store." in html and "You&#39;re here illegally" in html
    with sessions() as session:
        dan = session.scalar(select(Segment).where(Segment.start == 41.0)).speaker.person_id
    assert f'<a href="/speakers/{dan}">Deputy Dan</a>, member' in html
    assert f'href="/meetings/{SLUG}?t=35">Hear it in context</a>' in html
    assert '<audio controls preload="none">' in html
    for suffix, kind in (("m4a", "audio/mp4"), ("ogg", "audio/ogg"), ("mp3", "audio/mpeg")):
        assert f'<source src="/excerpts/{slug}/clip.{suffix}" type="{kind}">' in html
    assert "Vermont Criminal Justice Council" in html and "7 February 2024" in html
    assert "Line one\nLine two" in html
    assert "Machine transcript, not yet verified" in html and "Verified against" not in html


def test_verified_and_unverified_are_said_in_words(client, sessions) -> None:  # type: ignore[no-untyped-def]
    slug = make(sessions)
    with sessions() as session, session.begin():
        verify(session, session.scalar(select(Excerpt).where(Excerpt.slug == slug)), verified_by="Curator <Kim>")
    html = client.get(f"/excerpts/{slug}").get_data(as_text=True)
    assert "Verified against the recording</strong> by Curator &lt;Kim&gt; on" in html
    assert "not yet verified" not in html
    with sessions() as session, session.begin():  # a correction of the words lapses the verification
        segment = session.scalar(select(Segment).where(Segment.start == 41.0))
        words = [dict(w) for w in segment.words]
        words[1]["word"] = "hear"
        segment.words = words
    html = client.get(f"/excerpts/{slug}").get_data(as_text=True)
    assert "Machine transcript, not yet verified" in html and "Curator" not in html


def test_quote_title_note_and_names_are_escaped_in_the_page_and_its_meta(client, sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():  # the words themselves carry markup
        segment = session.scalar(select(Segment).where(Segment.start == 30.0))
        words = [dict(w) for w in segment.words]
        words[0]["word"] = XSS
        segment.words = words
    slug = make(sessions, 30.0, 36.0, title=f"Title {XSS}", note=f"Note {XSS}")
    html = client.get(f"/excerpts/{slug}").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    tags = meta(html).tags
    assert tags["og:title"] == f"Title {XSS}"  # intact as text after the parser unescapes it
    assert tags["og:description"].startswith(f"{XSS} only want")
    assert XSS in tags["og:image:alt"] and "Rosa" in tags["og:image:alt"]
    assert [s.get("type") for s in meta(html).scripts if not s.get("src")] == ["application/ld+json"]
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "</script" not in ld and json.loads(ld)["name"] == f"Title {XSS}"


def test_open_graph_and_twitter_meta_are_absolute(client, sessions, editor_settings, app_for) -> None:  # type: ignore[no-untyped-def]
    slug = make(sessions)
    tags = meta(client.get(f"/excerpts/{slug}").get_data(as_text=True)).tags
    assert tags["og:url"] == f"http://localhost/excerpts/{slug}"
    assert tags["og:image"] == f"http://localhost/excerpts/{slug}/card.png"
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    assert tags["og:audio"] == f"http://localhost/excerpts/{slug}/clip.mp3"
    assert tags["og:description"] == "You're here illegally and"
    assert tags["twitter:card"] == "summary_large_image"
    public = app_for(dataclasses.replace(editor_settings, public_url="https://archive.example.org/")).test_client()
    tags = meta(public.get(f"/excerpts/{slug}").get_data(as_text=True)).tags
    assert tags["og:image"] == f"https://archive.example.org/excerpts/{slug}/card.png"
    meeting_tags = meta(public.get(f"/meetings/{SLUG}").get_data(as_text=True)).tags
    assert meeting_tags["og:url"] == f"https://archive.example.org/meetings/{SLUG}"
    assert meeting_tags["og:title"] == "Public comment <b>on</b> policing · Vermont Criminal Justice Council"
    assert meeting_tags["og:description"].startswith("Vermont Criminal Justice Council, 7 February 2024")
    assert meeting_tags["twitter:card"] == "summary_large_image"
    assert meeting_tags["og:image"] == f"https://archive.example.org/meetings/{SLUG}/card.png"


def test_the_page_has_citations_and_share_links(client, sessions) -> None:  # type: ignore[no-untyped-def]
    slug = make(sessions)
    html = client.get(f"/excerpts/{slug}").get_data(as_text=True)
    for name in ("plain", "chicago", "bibtex", "csl-json"):
        assert f'<pre id="cite-{name}"' in html and f'data-copy="cite-{name}"' in html
    assert f"http://localhost/meetings/{SLUG}?t=41" in html
    assert "Recording SHA-256" in html
    mailto = re.search(r'href="(mailto:[^"]+)"', html).group(1)
    assert "subject=Hot%20mic" in mailto and f"http%3A%2F%2Flocalhost%2Fexcerpts%2F{slug}" in mailto
    assert f'data-copy-text="http://localhost/excerpts/{slug}"' in html and "data-share" in html


@pytest.mark.parametrize("database_url", [""])  # SQLite: the page's order, not the dialect, is under test
def test_the_page_leads_with_the_card_and_the_share_actions_citations_folded_below(client, sessions) -> None:  # type: ignore[no-untyped-def]
    slug = make(sessions)
    html = client.get(f"/excerpts/{slug}").get_data(as_text=True)
    page = f"http%3A%2F%2Flocalhost%2Fexcerpts%2F{slug}"
    links = re.findall(r'<li><a class="button" href="([^"]+)"', html)
    hosts = [re.match(r"(https://[^/?]+|mailto:|/excerpts/)", link).group(1) for link in links]
    assert hosts == [
        "https://bsky.app",
        "https://s2f.kytta.dev",
        "https://x.com",
        "https://www.facebook.com",
        "mailto:",
        "/excerpts/",
        "/excerpts/",
    ]
    assert all(page in link for link in links[:5])  # every share carries the page's address
    assert "%E2%80%9CYou%27re%20here%20illegally" in links[0]  # the quote, in curly quotes
    assert links[5] == f"/excerpts/{slug}/card.png" and links[6] == f"/excerpts/{slug}/clip.mp4"
    card = html.index(f'<img src="/excerpts/{slug}/card.png"')
    quote = html.index('<figure class="quote">')
    details = html.index('<details class="citations" id="cite">')
    assert html.index("<h1>") < card < html.index("https://bsky.app") < quote < details  # card and shares first
    assert html.index('<pre id="cite-plain"', details) > details and "</details>" in html[details:]
    assert 'aria-labelledby="cite-' not in html  # a pre takes no accessible name from a heading
    tags = meta(html).tags
    assert tags["og:video"] == f"http://localhost/excerpts/{slug}/clip.mp4" and tags["og:video:type"] == "video/mp4"
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert ld["isPartOf"]["@type"] == "CreativeWork" and ld["isPartOf"]["url"] == f"http://localhost/meetings/{SLUG}"


def test_an_unknown_excerpt_is_404(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/excerpts/zzzzzzzz").status_code == 404
    response = client.get("/api/excerpts/zzzzzzzz")
    assert response.status_code == 404 and "error" in response.get_json()


def test_the_pages_keep_their_security_headers(client, sessions) -> None:  # type: ignore[no-untyped-def]
    slug = make(sessions)
    response = client.get(f"/excerpts/{slug}")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


# --- the API ------------------------------------------------------------------------------------------------


def test_get_api_excerpt_is_the_document_with_citations(client, sessions) -> None:  # type: ignore[no-untyped-def]
    slug = make(sessions)
    document = client.get(f"/api/excerpts/{slug}").get_json()
    assert document["slug"] == slug and document["quote"] == "You're here illegally and"
    assert set(document["citations"]) == {"plain", "chicago", "bibtex", "csl-json"}
    assert json.loads(document["citations"]["csl-json"])[0]["URL"] == f"http://localhost/meetings/{SLUG}?t=41"


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_post_api_excerpts_makes_one_without_csrf(client, sessions) -> None:  # type: ignore[no-untyped-def]
    body = {"meeting": SLUG, "start": "0:00:41", "end": 42.5, "title": "Hot mic", "note": "n"}
    response = client.post("/api/excerpts", json=body, headers=bearer())
    assert response.status_code == 201
    document = response.get_json()
    assert document["quote"] == "You're here illegally and" and document["note"] == "n"
    assert response.headers["Location"] == f"http://localhost/excerpts/{document['slug']}"
    assert "citations" in document
    assert count(sessions) == 1


def test_post_api_excerpts_with_an_idempotency_key_makes_one(client, sessions) -> None:  # type: ignore[no-untyped-def]
    body = {"meeting": SLUG, "start": 41, "end": 42.5, "title": "Hot mic"}
    headers = {**bearer(), "Idempotency-Key": "k" * 20}
    first = client.post("/api/excerpts", json=body, headers=headers)
    again = client.post("/api/excerpts", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["slug"] == again.get_json()["slug"]
    assert count(sessions) == 1


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({}, 401, "Give the editor token"),
        ({"Authorization": f"Basic {TOKEN}"}, 401, "Give the editor token"),
        (bearer("wrong"), 403, "not right"),
    ],
)
def test_post_api_excerpts_needs_the_token(client, sessions, headers, status, message) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/excerpts", json={"meeting": SLUG, "start": 41, "end": 42, "title": "t"}, headers=headers
    )
    assert response.status_code == status
    assert message in response.get_json()["error"]
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert count(sessions) == 0


def test_post_api_excerpts_is_off_without_an_editor_token(settings, meeting, app_for, sessions) -> None:  # type: ignore[no-untyped-def]
    client = app_for(settings).test_client()
    response = client.post(
        "/api/excerpts", json={"meeting": SLUG, "start": 41, "end": 42, "title": "t"}, headers=bearer("")
    )
    assert response.status_code == 403 and "switched off" in response.get_json()["error"]
    assert count(sessions) == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "send a JSON object"),
        ([1, 2], "send a JSON object"),
        ({"start": 41, "end": 42, "title": "t"}, "meeting: give the meeting"),
        ({"meeting": "nope", "start": 41, "end": 42, "title": "t"}, "no meeting with slug"),
        ({"meeting": SLUG, "start": True, "end": 42, "title": "t"}, "start: give a time"),
        ({"meeting": SLUG, "start": 41, "end": [], "title": "t"}, "end: give a time"),
        ({"meeting": SLUG, "start": -1, "end": 42, "title": "t"}, "start: -1 is not a time"),
        ({"meeting": SLUG, "start": 41, "end": 42, "title": 7}, "title must be text"),
        ({"meeting": SLUG, "start": 41, "end": 42, "title": ""}, "needs a title"),
        ({"meeting": SLUG, "start": 1, "end": 5, "title": "t"}, "no words between"),
    ],
)
def test_post_api_excerpts_bad_input_is_a_json_4xx(client, sessions, body, message) -> None:  # type: ignore[no-untyped-def]
    """A 400 naming the field; an unknown meeting is a 404, as every lookup of a meeting answers."""
    kwargs = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": body}
    response = client.post("/api/excerpts", headers=bearer(), **kwargs)
    assert response.status_code == (404 if message == "no meeting with slug" else 400)
    assert message in response.get_json()["error"]
    assert count(sessions) == 0


# --- the secret key and cookies -----------------------------------------------------------------------------


def test_the_secret_key_is_made_once_and_kept_private(settings, meeting, app_for) -> None:  # type: ignore[no-untyped-def]
    first = app_for(settings)
    path = settings.home / ".secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.config["SECRET_KEY"] == path.read_text().strip() and len(first.config["SECRET_KEY"]) == 64
    assert app_for(settings).config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert [p.name for p in settings.home.iterdir() if p.name.startswith(".secret_key")] == [".secret_key"]
    configured = app_for(dataclasses.replace(settings, secret_key="from-the-environment"))
    assert configured.config["SECRET_KEY"] == "from-the-environment"


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(client, editor_settings, meeting, app_for) -> None:  # type: ignore[no-untyped-def]
    cookie = client.get(f"/meetings/{SLUG}").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    over_https = client.application.test_client()  # a new visitor: a new session cookie
    cookie = over_https.get(f"/meetings/{SLUG}", base_url="https://localhost").headers["Set-Cookie"]
    assert "Secure" in cookie
    public = app_for(dataclasses.replace(editor_settings, public_url="https://archive.example.org"))
    assert "Secure" in public.test_client().get(f"/meetings/{SLUG}").headers["Set-Cookie"]


def test_the_excerpts_index_lists_them_newest_first(client) -> None:  # type: ignore[no-untyped-def]
    assert "No excerpts yet." in client.get("/excerpts").get_data(as_text=True)
    made = client.post("/excerpts", data=form(client))
    slug = made.headers["Location"].rsplit("/", 1)[1]
    index = client.get("/excerpts").get_data(as_text=True)
    assert f'<a href="/excerpts/{slug}">' in index and "“You&#39;re here illegally and”" in index
    assert 'href="/excerpts"' in index  # in the site's navigation
