"""Sharing beyond the site: the embed page's frame policy, oEmbed, Atom feeds, the sitemap, excerpt exports and
the downloads page — through Flask's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from archive.config import Settings
from archive.excerpts.manage import create_excerpt
from tests.factories.meetings import Line, add_meeting, update_person

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SCRIPT = "<script>alert(1)</script>"
MEETING = "2024-02-07-comment"


@pytest.fixture
def archive(settings, sessions):  # type: ignore[no-untyped-def]
    """Two meetings, an anonymous testifier, a deputy on a hot mic, two excerpts (one titled with markup)."""
    from archive.search.index import index_meeting, open_backend

    add_meeting(
        sessions,
        MEETING,
        [
            Line("I want to feel safe driving to the grocery store.", 20.0, 26.5, "Elena Ruiz", "farmworker"),
            Line("=HYPERLINK(1) you're here illegally", 3721.4, 3726.0, "Deputy Dan", "member", "remark"),
        ],
        title=f"Public comment {SCRIPT}",
    )
    add_meeting(
        sessions,
        "2023-05-01-budget",
        [Line("The budget grows by four percent, which keeps everyone safe.", 5.0, 9.0, "Chair Ann", "chair")],
        title="Budget hearing",
        date=dt.date(2023, 5, 1),
    )
    update_person(sessions, "Elena Ruiz", consent="anonymous")
    with sessions() as session, session.begin():
        hot = create_excerpt(session, MEETING, 3721.4, 3726.0, f"Hot mic {SCRIPT}", created_by="t").slug
        safe = create_excerpt(session, MEETING, 20.0, 26.5, "+Safe driving", note="@note", created_by="t").slug
    backend = open_backend(settings)
    with sessions() as session:
        for slug in (MEETING, "2023-05-01-budget"):
            index_meeting(backend, session, slug)
    return {"hot": hot, "safe": safe}


@pytest.fixture
def client(settings, archive, app_for):  # type: ignore[no-untyped-def]
    return app_for(settings).test_client()


# --- the embeddable player and its frame policy ----------------------------------------------------------


def test_the_embed_page_may_be_framed_by_any_site(client, archive) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/excerpts/{archive['hot']}/embed")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in policy and "frame-ancestors 'none'" not in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    html = response.get_data(as_text=True)
    assert "<script" not in html  # nothing to run, and the title's markup is text
    assert "Hot mic &lt;script&gt;" in html
    assert "you&#39;re here illegally" in html and "Deputy Dan, member" in html
    assert '<audio controls preload="none">' in html
    for suffix, kind in (("m4a", "audio/mp4"), ("mp3", "audio/mpeg"), ("ogg", "audio/ogg")):
        assert f'<source src="/excerpts/{archive["hot"]}/clip.{suffix}" type="{kind}">' in html
    assert (
        f'<a href="http://localhost/excerpts/{archive["hot"]}" target="_blank" rel="noopener">'
        "Hear it in context on Testimony Archive</a>"
    ) in html
    assert "Machine transcript, not yet verified" in html


@pytest.mark.parametrize(
    "path",
    ["/", "/meetings", f"/meetings/{MEETING}", "/excerpts/{hot}", "/api/excerpts", "/api/search?q=safe", "/oembed"],
)
def test_every_other_page_forbids_framing(client, archive, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path.format(**archive))
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_an_unknown_excerpt_has_no_embed(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/excerpts/zzzzzzzz/embed").status_code == 404


# --- oEmbed ----------------------------------------------------------------------------------------------


def oembed(client, url: str, **args: str):  # type: ignore[no-untyped-def]
    return client.get("/oembed", query_string={"url": url, **args})


def test_oembed_describes_an_excerpt_as_rich_html(client, archive) -> None:  # type: ignore[no-untyped-def]
    response = oembed(client, f"http://localhost/excerpts/{archive['hot']}", format="json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    answer = json.loads(response.get_data(as_text=True))
    assert answer["type"] == "rich" and answer["version"] == "1.0"
    assert answer["title"] == f"Hot mic {SCRIPT}"  # JSON text; the HTML below is where escaping matters
    assert answer["author_name"] == "Deputy Dan, member"
    assert answer["author_url"].startswith("http://localhost/speakers/")
    assert (answer["provider_name"], answer["provider_url"]) == ("Testimony Archive", "http://localhost/")
    assert (answer["width"], answer["height"]) == (560, 300)
    assert answer["html"] == (
        f'<iframe src="http://localhost/excerpts/{archive["hot"]}/embed" width="560" height="300" '
        'title="Hot mic &lt;script&gt;alert(1)&lt;/script&gt;" loading="lazy" style="border:0;max-width:100%">'
        "</iframe>"
    )
    assert answer["thumbnail_url"] == f"http://localhost/excerpts/{archive['hot']}/card.png"
    assert (answer["thumbnail_width"], answer["thumbnail_height"]) == (1200, 630)


def test_the_excerpt_page_advertises_its_oembed_endpoint(client, archive) -> None:  # type: ignore[no-untyped-def]
    import html
    import re

    page = client.get(f"/excerpts/{archive['hot']}").get_data(as_text=True)
    link = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', page)
    assert link is not None
    discovered = client.get(html.unescape(link.group(1)))
    assert discovered.status_code == 200
    assert discovered.get_json()["thumbnail_url"].endswith(f"/excerpts/{archive['hot']}/card.png")


def test_oembed_honours_the_maximum_sizes(client, archive) -> None:  # type: ignore[no-untyped-def]
    url = f"http://localhost/excerpts/{archive['hot']}/"
    small = oembed(client, url, maxwidth="400", maxheight="200").get_json()
    assert (small["width"], small["height"]) == (400, 200)
    assert 'width="400" height="200"' in small["html"]
    assert (small["thumbnail_width"], small["thumbnail_height"]) == (380, 200)  # 1200×630 within 400×200
    roomy = oembed(client, url, maxwidth="2000").get_json()
    assert (roomy["width"], roomy["height"], roomy["thumbnail_width"]) == (560, 300, 1200)


def test_oembed_accepts_the_public_address_and_the_embed_url(settings, archive, app_for) -> None:  # type: ignore[no-untyped-def]
    public = Settings(home=settings.home, database_url=settings.database_url, public_url="https://testimony.example/")
    client = app_for(public).test_client()
    answer = oembed(client, f"https://testimony.example/excerpts/{archive['safe']}/embed").get_json()
    assert answer["html"].startswith(f'<iframe src="https://testimony.example/excerpts/{archive["safe"]}/embed"')
    assert answer["author_name"] == "farmworker"  # anonymous: the role, never the name
    assert "author_url" in answer
    assert oembed(client, f"http://localhost/excerpts/{archive['safe']}").status_code == 200  # the host asked


@pytest.mark.parametrize(
    ("args", "status"),
    [
        ({}, 400),
        ({"url": ""}, 400),
        ({"url": "http://localhost/excerpts/zzzzzzzz"}, 404),
        ({"url": "https://elsewhere.example/excerpts/{hot}"}, 404),
        ({"url": "http://localhost/meetings/" + MEETING}, 404),
        ({"url": "javascript:alert(1)//localhost/excerpts/{hot}"}, 404),
        ({"url": "http://localhost/excerpts/{hot}", "format": "xml"}, 501),
        ({"url": "http://localhost/excerpts/{hot}", "maxwidth": "wide"}, 400),
        ({"url": "http://localhost/excerpts/{hot}", "maxheight": "0"}, 400),
    ],
)
def test_oembed_refuses_what_it_cannot_embed(client, archive, args, status) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/oembed", query_string={k: v.format(**archive) for k, v in args.items()})
    assert response.status_code == status
    assert response.is_json and response.get_json()["error"]


def test_the_discovery_snippet_points_at_oembed(client, archive) -> None:  # type: ignore[no-untyped-def]
    from flask import render_template_string

    with client.application.test_request_context("/"):
        tag = render_template_string(
            '{% from "partials/oembed_link.html" import oembed_link %}{{ oembed_link(slug, title) }}',
            slug=archive["hot"],
            title=f"Hot mic {SCRIPT}",
        )
    assert tag.startswith('<link rel="alternate" type="application/json+oembed" href="http://localhost/oembed?url=')
    assert 'title="Hot mic &lt;script&gt;' in tag and "&amp;format=json" in tag
    href = tag.split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert client.get(href.removeprefix("http://localhost")).get_json()["type"] == "rich"


# --- Atom feeds ------------------------------------------------------------------------------------------


def atom(client, path: str, **args: str) -> ET.Element:  # type: ignore[no-untyped-def]
    response = client.get(path, query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}").text
    # No public address is set: links are relative (never the request's Host), ids stable URNs.
    assert feed.find(f"{ATOM}link[@rel='self']").get("href").startswith("/")
    assert feed.find(f"{ATOM}id").text.startswith("urn:uuid:")
    for entry in feed.findall(f"{ATOM}entry"):
        for required in ("id", "title", "updated", "summary"):
            assert entry.find(f"{ATOM}{required}").text, required
        assert alternate(entry).startswith("/") and entry.find(f"{ATOM}id").text.startswith("urn:uuid:")
        dt.datetime.fromisoformat(entry.find(f"{ATOM}updated").text)
    return feed


def alternate(entry: ET.Element) -> str:
    """The entry's page: its link with rel="alternate", which Atom lets a feed leave unsaid."""
    (href,) = [link.get("href") for link in entry.findall(f"{ATOM}link") if link.get("rel", "alternate") == "alternate"]
    return href


def titles(feed: ET.Element) -> list[str]:
    return [entry.find(f"{ATOM}title").text for entry in feed.findall(f"{ATOM}entry")]


def test_the_meetings_feed_lists_new_meetings_with_markup_as_text(client) -> None:  # type: ignore[no-untyped-def]
    feed = atom(client, "/meetings.atom")
    assert titles(feed) == ["Budget hearing", f"Public comment {SCRIPT}"]  # newest added first
    assert alternate(feed.find(f"{ATOM}entry")) == "/meetings/2023-05-01-budget"
    assert SCRIPT not in client.get("/meetings.atom").get_data(as_text=True)  # escaped in the XML


def test_the_excerpts_feed_quotes_each_excerpt_and_links_its_clip(client, archive) -> None:  # type: ignore[no-untyped-def]
    feed = atom(client, "/excerpts.atom")
    assert titles(feed) == ["+Safe driving", f"Hot mic {SCRIPT}"]
    hot = feed.findall(f"{ATOM}entry")[1]
    summary = hot.find(f"{ATOM}summary").text
    assert summary.startswith("“=HYPERLINK(1) you're here illegally” — Deputy Dan, member.")
    assert "Machine transcript, not yet verified." in summary
    clip = hot.find(f"{ATOM}link[@rel='enclosure']")
    assert clip.get("href") == f"/excerpts/{archive['hot']}/clip.mp3"
    assert "Elena" not in client.get("/excerpts.atom").get_data(as_text=True)


def test_a_search_feed_follows_a_topic_newest_meeting_first(client) -> None:  # type: ignore[no-untyped-def]
    feed = atom(client, "/search.atom", q="safe")
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}updated").text[:10] for e in entries] == ["2024-02-07", "2023-05-01"]
    assert titles(feed)[0] == "farmworker: “I want to feel safe driving to the grocery store.”"
    link = alternate(entries[0])
    assert link.startswith(f"/meetings/{MEETING}?t=20#s")
    assert "safe" in feed.find(f"{ATOM}title").text
    narrowed = atom(client, "/search.atom", q="safe", **{"from": "2024-01-01"})
    assert len(narrowed.findall(f"{ATOM}entry")) == 1
    by_speaker = atom(client, "/search.atom", q="safe", speaker="Chair Ann")
    assert titles(by_speaker) == ["Chair Ann: “The budget grows by four percent, which keeps everyone safe.”"]
    assert atom(client, "/search.atom", q="zebra").findall(f"{ATOM}entry") == []


def test_feeds_never_take_links_or_ids_from_the_host_header(client, settings, app_for) -> None:  # type: ignore[no-untyped-def]
    for path in ("/excerpts.atom", "/meetings.atom", "/search.atom?q=safe"):
        plain = client.get(path).data
        foreign = client.get(path, headers={"Host": "evil.example"}).data
        assert b"evil.example" not in foreign and foreign == plain, path
    public = app_for(dataclasses.replace(settings, public_url="https://archive.example.org/")).test_client()
    feed = ET.fromstring(public.get("/excerpts.atom", headers={"Host": "evil.example"}).data)
    assert feed.find(f"{ATOM}id").text == "https://archive.example.org/excerpts.atom"
    entry = feed.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}id").text == alternate(entry)
    assert alternate(entry).startswith("https://archive.example.org/excerpts/")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "q: type a word"),
        ({"q": "safe", "from": "yesterday"}, "from must be a date"),
        ({"q": "safe", "kind": "gossip"}, "kind must be one of"),
    ],
)
def test_a_search_feed_refuses_what_the_api_refuses(client, args, message: str) -> None:  # type: ignore[no-untyped-def]
    feed = client.get("/search.atom", query_string=args)
    api = client.get("/api/search", query_string=args)
    assert feed.status_code == api.status_code == 400
    assert message in feed.get_json()["error"] and feed.get_json() == api.get_json()


def test_pages_announce_their_feeds(client) -> None:  # type: ignore[no-untyped-def]
    home = client.get("/").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml" title="New meetings" href="/meetings.atom">' in home
    assert 'href="/excerpts.atom"' in home
    search = client.get("/search", query_string={"q": "safe", "page": "1", "sort": "date"}).get_data(as_text=True)
    assert 'type="application/atom+xml" title="This search" href="/search.atom?q=safe"' in search
    assert 'href="/search.atom?q=safe">Follow this search</a>' in search


# --- the sitemap -----------------------------------------------------------------------------------------


def test_the_sitemap_lists_every_public_page_and_no_anonymous_person(client, archive, sessions) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from archive.db.models import Person

    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    urlset = ET.fromstring(response.data)
    assert urlset.tag == f"{SITEMAP}urlset"
    urls = {u.find(f"{SITEMAP}loc").text: u.find(f"{SITEMAP}lastmod") for u in urlset.findall(f"{SITEMAP}url")}
    with sessions() as session:
        people = {p.name: p.id for p in session.scalars(select(Person))}
    expected = {
        "http://localhost/",
        "http://localhost/meetings",
        f"http://localhost/meetings/{MEETING}",
        "http://localhost/meetings/2023-05-01-budget",
        f"http://localhost/excerpts/{archive['hot']}",
        f"http://localhost/excerpts/{archive['safe']}",
        f"http://localhost/speakers/{people['Deputy Dan']}",
        f"http://localhost/speakers/{people['Chair Ann']}",
    }
    assert set(urls) == expected  # Elena Ruiz asked to stay anonymous: her page is not offered to indexes
    dt.datetime.fromisoformat(urls[f"http://localhost/meetings/{MEETING}"].text)
    assert "Elena" not in response.get_data(as_text=True)


# --- excerpts as data, and the downloads -----------------------------------------------------------------


def test_the_excerpt_api_lists_pages_of_excerpts(client, archive) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/api/excerpts", query_string={"per_page": "1"}).get_json()
    assert (first["total"], first["page"], first["per_page"]) == (2, 1, 1)
    assert [e["slug"] for e in first["excerpts"]] == [archive["safe"]]
    second = client.get("/api/excerpts", query_string={"per_page": "1", "page": "2"}).get_json()
    assert [e["slug"] for e in second["excerpts"]] == [archive["hot"]]
    assert second["excerpts"][0]["url"] == f"/excerpts/{archive['hot']}"
    assert client.get("/api/excerpts", query_string={"meeting": "2023-05-01-budget"}).get_json()["total"] == 0
    assert client.get("/api/excerpts", query_string={"page": "x"}).status_code == 400
    missing = client.get("/api/excerpts", query_string={"meeting": "nope"})
    assert missing.status_code == 404 and missing.get_json()["error"] == "no meeting with slug 'nope'"


def test_the_excerpt_csv_opens_safely(client, archive) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/excerpts.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="excerpts.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    safe, hot = rows
    assert safe["title"] == "'+Safe driving" and safe["note"] == "'@note"
    assert safe["speakers"] == "farmworker" and "Elena" not in response.get_data(as_text=True)
    assert hot["quote"] == "'=HYPERLINK(1) you're here illegally"
    assert hot["url"] == f"http://localhost/excerpts/{archive['hot']}"
    assert hot["context_url"] == f"http://localhost/meetings/{MEETING}?t=3721"
    assert (hot["timestamp"], hot["verified"], hot["date"]) == ("1:02:01", "no", "2024-02-07")
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row.values())


def test_the_downloads_page_explains_until_a_dump_is_published(client, runner, settings) -> None:  # type: ignore[no-untyped-def]
    from archive.cli.main import main

    page = client.get("/downloads")
    assert page.status_code == 200 and "testimony dump" in page.get_data(as_text=True)
    assert client.get("/downloads/archive.zip").status_code == 404
    made = runner.invoke(main, ["dump"])
    assert made.exit_code == 0, made.output
    zip_path = made.stdout.splitlines()[-1]
    assert zip_path.startswith(str(settings.home / "dumps" / "archive-")) and zip_path.endswith(".zip")
    html = client.get("/downloads").get_data(as_text=True)
    assert "2 meetings, 3 segments" in html and 'href="/downloads/archive.zip"' in html
    with client.get("/downloads/archive.zip") as download:
        assert download.status_code == 200 and download.mimetype == "application/zip"
        assert download.get_data() == Path(zip_path).read_bytes()
    assert "attachment" in download.headers["Content-Disposition"]


@pytest.mark.parametrize("database_url", [""])  # SQLite: the sitemap's entries, not the dialect
def test_the_sitemap_lists_public_campaigns_but_no_draft(sessions, runner, tmp_path, settings, app_for) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from archive.db.models import Campaign
    from tests.factories.campaigns import add_campaign_site

    add_campaign_site(sessions, runner, tmp_path)
    with sessions() as session, session.begin():
        session.add(
            Campaign(
                slug="secret-plan", title="Draft", status="draft", created_by="test", subject="S", letter_template="T"
            )
        )
        assert session.scalar(select(Campaign.status).where(Campaign.slug == "safe-streets")) == "open"
    body = app_for(settings).test_client().get("/sitemap.xml").data
    locs = [loc.text for loc in ET.fromstring(body).iter(f"{SITEMAP}loc")]
    assert "http://localhost/campaigns" in locs and "http://localhost/campaigns/safe-streets" in locs
    assert not any("secret-plan" in loc for loc in locs)
