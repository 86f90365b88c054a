"""Following by email (archive.publish.follows and its pages): double opt-in through the real site, nothing sent
before confirmation, a daily digest of new hits queued by the worker's task and delivered to a real aiosmtpd
server, parsed back, and the one-click unsubscribe link; SQLite (nothing here depends on the dialect)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from sqlalchemy import select

from archive.db.models import Follow, OutboxMessage
from archive.errors import InvalidInput, NotFound
from archive.mail.delivery import deliver_due
from archive.publish.follows import confirm_follow, new_items, request_follow, send_digests, target_for
from tests.factories.accounts import csrf_token
from tests.factories.meetings import Line, add_meeting

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SEARCH = "/follow?kind=search&target=illegally"


@pytest.fixture
def site(mail_settings, sessions, app_for):  # type: ignore[no-untyped-def]
    settings = dataclasses.replace(mail_settings, public_url="http://archive.test")
    add_meeting(sessions, "2024-02-07-old", [Line("Nothing illegally new here.", 1.0, 3.0)], title="Old meeting")
    app = app_for(settings)
    return settings, app


def later(seconds: float = 1.0) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


def follows(sessions) -> list[Follow]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(Follow)))


def test_a_search_followed_by_email_from_request_to_digest_to_unsubscribe(site, sessions, smtp_server) -> None:  # type: ignore[no-untyped-def]
    settings, app = site
    key = app.config["SECRET_KEY"]
    client = app.test_client()
    page = client.get(SEARCH).get_data(as_text=True)
    assert "<h1>Follow the search “illegally” by email</h1>" in page
    token = csrf_token(client, SEARCH)
    form = {"csrf_token": token, "kind": "search", "target": "illegally", "email": "Reader+news@Example.org"}
    assert client.post("/follow", data={**form, "csrf_token": ""}).status_code == 400  # CSRF checked
    asked = client.post("/follow", data=form)
    assert asked.status_code == 200 and "Check your email" in asked.get_data(as_text=True)
    assert client.post("/follow", data=form).status_code == 200  # asked twice: one follow, one email
    (follow,) = follows(sessions)
    assert (follow.status, follow.email_key, follow.label) == (
        "unconfirmed",
        "reader@example.org",
        "the search “illegally”",
    )

    # Nothing but the confirmation request before the mailbox confirms, whatever is new.
    add_meeting(sessions, "2024-03-01-new", [Line("You are here illegally, he said.", 1.0, 4.0)], title="New meeting")
    assert send_digests(settings, sessions, later(), secret_key=key) == 0
    assert deliver_due(settings, sessions).sent == 1
    (confirmation,) = smtp_server.mailbox("Reader+news@Example.org").values()
    link = re.search(r"http://archive\.test(/follow/confirm/\S+)", confirmation.get_content()).group(1)
    shown = client.get(link)
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert follows(sessions)[0].status == "unconfirmed"  # opening the link (a mail scanner) changes nothing
    assert client.get(link.replace("confirm/", "confirm/x")).status_code == 404  # a link we did not sign
    assert client.post(link, data={"csrf_token": token}).status_code == 200
    assert follows(sessions)[0].status == "active"

    # The daily digest: what was added after confirming, delivered, parsed back.
    assert send_digests(settings, sessions, later(0), secret_key=key) == 0  # nothing new since confirming
    add_meeting(sessions, "2024-03-08-newer", [Line("They are here illegally again.", 5.0, 9.0)], title="Newer")
    assert send_digests(settings, sessions, later(2), secret_key=key) == 0  # a digest a day at most
    assert send_digests(settings, sessions, later(86_400 + 5), secret_key=key) == 1
    assert deliver_due(settings, sessions).sent == 1
    digest = [m for m in smtp_server.mailbox("Reader+news@Example.org").values() if m is not confirmation][0]
    assert digest["Subject"] == "New for the search “illegally”: 1"
    body = digest.get_content()
    assert "- Newer (2024-02-07: They are here illegally again.)" in body
    assert "http://archive.test/meetings/2024-03-08-newer?t=5" in body and "2024-03-01-new" not in body
    stop = re.search(r"http://archive\.test(/follow/unsubscribe/\S+)", body).group(1)

    # One click: the link unsubscribes; nothing more is sent.
    assert "Unsubscribed" in client.get(stop).get_data(as_text=True)
    assert follows(sessions)[0].status == "unsubscribed"
    add_meeting(sessions, "2024-03-15-newest", [Line("Still illegally.", 1.0, 2.0)], title="Newest")
    assert send_digests(settings, sessions, later(3 * 86_400), secret_key=key) == 0
    with sessions() as session:
        kinds = [m.kind for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert kinds == ["follow", "digest"]


def test_a_body_and_a_speaker_are_checked_and_followed(site, sessions) -> None:  # type: ignore[no-untyped-def]
    settings, app = site
    with sessions() as session:
        body = target_for(session, "body", "vermont-criminal-justice-council")
        assert body.label == "Vermont Criminal Justice Council"
        for kind, target in (("body", "nosuch"), ("speaker", "999"), ("speaker", "x")):
            with pytest.raises(NotFound):
                target_for(session, kind, target)
        with pytest.raises(InvalidInput):
            target_for(session, "weather", "x")
        follow = request_follow(
            session,
            settings,
            kind="body",
            target=body.target,
            email="clerk@example.org",
            address_hash="h",
            secret_key="k",
            base_url="http://archive.test",
        )
        assert follow is not None
        confirm_follow(session, follow)
        since = follow.since
    add_meeting(sessions, "2024-04-01-body", [Line("Call to order.", 1.0, 2.0)], title="April meeting")
    add_meeting(sessions, "2024-04-02-other", [Line("Elsewhere.", 1.0, 2.0)], title="Other body", body="Other Board")
    with sessions() as session:
        follow = session.scalar(select(Follow))
        items = new_items(session, sessions, follow, since)
    assert [(item.title, item.url) for item in items] == [("April meeting", "/meetings/2024-04-01-body")]
    client = app.test_client()
    assert client.get("/follow?kind=speaker&target=999").status_code == 404
    # Each page links its follow-by-email page (no form, no CSRF token on them: they stay in the page cache).
    meeting = client.get("/meetings/2024-02-07-old").get_data(as_text=True)
    assert 'href="/follow?kind=body&amp;target=vermont-criminal-justice-council">Follow the Vermont' in meeting
    search = client.get("/search?q=illegally").get_data(as_text=True)
    assert '<a href="/follow?kind=search&amp;target=illegally">by email</a>' in search
    assert "csrf_token" not in search and "csrf_token" not in meeting
