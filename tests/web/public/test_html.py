"""Every public page type through the Nu HTML Checker (vnu.jar, the W3C validator), errors and warnings alike.

The checker is the npm package vnu-jar, installed by .ci/run (`npm install --prefix .ci/vnu vnu-jar@…`) and run with
Debian's Java 17. Without it this test fails and says how to install it: it is never skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.db.models import Excerpt, Person
from tests.factories.campaigns import MEETING, add_campaign_site

VNU = Path(os.environ.get("VNU_JAR", Path(__file__).parents[3] / ".ci/vnu/node_modules/vnu-jar/build/dist/vnu.jar"))


def vnu_command() -> list[str]:
    java = shutil.which("java")
    if java is None or not VNU.is_file():
        pytest.fail(
            f"the Nu HTML Checker is missing ({VNU if java else 'no java on PATH'}): run "
            "`npm install --prefix .ci/vnu vnu-jar@26.9.27` (and apt-get install openjdk-17-jre-headless), "
            "or set VNU_JAR to a vnu.jar"
        )
    return [java, "-Xss1024k", "-jar", str(VNU)]


@pytest.mark.parametrize("database_url", [""])  # SQLite: the markup, not the dialect, is under test
def test_every_public_page_type_is_valid_html(sessions, runner, tmp_path, client) -> None:  # type: ignore[no-untyped-def]
    command = vnu_command()
    add_campaign_site(sessions, runner, tmp_path)
    with sessions() as session:
        excerpt = session.scalar(select(Excerpt.slug))
        person = session.scalar(select(Person.id).where(Person.name == "Deputy Dan"))
    pages = {
        "home": "/",
        "meetings": "/meetings",
        "meeting": f"/meetings/{MEETING}",
        "meeting-at-a-time": f"/meetings/{MEETING}?t=42",
        "search": "/search?q=safe",
        "search-empty": "/search",
        "search-refused": "/search?q=safe&from=yesterday",
        "excerpt": f"/excerpts/{excerpt}",
        "embed": f"/excerpts/{excerpt}/embed",
        "speaker": f"/speakers/{person}",
        "campaigns": "/campaigns",
        "campaign": "/campaigns/safe-streets",
        "legislators": "/legislators?town=Burlington",
        "downloads": "/downloads",
        "not-found": "/meetings/no-such-meeting",
    }
    files = []
    # Each page in English and in Spanish (archive.web.languages): the translations carry markup too.
    for (name, url), language in [(page, language) for page in pages.items() for language in ("en", "es")]:
        response = client.get(url, headers={"Accept-Language": language})
        assert response.status_code in (200, 400, 404), (url, response.status_code)
        assert response.mimetype == "text/html", url
        assert f'<html lang="{language}">' in response.get_data(as_text=True), (url, language)
        path = tmp_path / f"{name}-{language}.html"
        path.write_bytes(response.data)
        files.append(str(path))
    # A canary with one known error: proves the checker ran and reported, so silence below means valid pages.
    canary = tmp_path / "canary.html"
    canary.write_text('<!doctype html><html lang="en"><title>c</title><input type="date" value="yesterday">')
    done = subprocess.run(
        [*command, "--format", "json", "--also-check-css", str(canary), *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(done.stderr)
    assert "version" in report, done.stderr[:500]
    found = [m for m in report["messages"] if m.get("url", "").endswith("/canary.html")]
    assert len(found) == 1 and "date format" in found[0]["message"], found
    messages = [m for m in report["messages"] if m not in found]
    problems = [
        f"{Path(m.get('url', '')).stem}:{m.get('lastLine', '?')}: {m['type']}/{m.get('subType', '')}: {m['message']}"
        for m in messages
    ]
    assert problems == [], "\n".join(problems)
