"""/admin/campaigns: roles and per-campaign checks on the server, the form, open and close, organizers, the
supporters page and the CSV export (formulas neutralised, audited); through the real login, on both databases."""

from __future__ import annotations

import csv
import dataclasses
import io
import re

import pytest
from sqlalchemy import select

from archive.campaigns.manage import add_organizer, create_campaign, find_campaign
from archive.db.models import AuditEvent, Campaign, User
from tests.factories.accounts import add_user, csrf_token, log_in, sign_in
from tests.factories.campaigns import HOUSE, add_directory, add_excerpts, add_letter
from tests.factories.mail import ARCHIVE_ADDRESS

XSS = '<script>alert("x")</script>'
TEMPLATE = "I live in {town}. {quote} {excerpt_link} {supporter_name}"


@pytest.fixture
def settings(settings, smtp_server):  # type: ignore[no-untyped-def]
    """Mail that can be sent (a campaign opens only then): a real SMTP server on loopback."""
    return dataclasses.replace(
        settings, mail_from=ARCHIVE_ADDRESS, smtp_host=smtp_server.host, smtp_port=smtp_server.port
    )


@pytest.fixture
def excerpts(sessions) -> list[str]:  # type: ignore[no-untyped-def]
    add_directory(sessions)
    return add_excerpts(sessions)


@pytest.fixture
def theirs(sessions, excerpts) -> str:  # type: ignore[no-untyped-def]
    """A campaign organised by bo@example.org (an organizer account made here), with two letters."""
    add_user(sessions, "organizer", "bo@example.org")
    with sessions() as session, session.begin():
        campaign = create_campaign(session, title=f"Bo's {XSS}", excerpt_slugs=excerpts, created_by="bo@example.org")
        add_organizer(session, campaign, session.scalar(select(User).where(User.email == "bo@example.org")))
        add_letter(session, campaign.id, "Ana Alvarez", "ana@example.org", sent=2)
        add_letter(session, campaign.id, "Cy Unsure", "cy@example.org", status="unconfirmed")
        return campaign.slug


def client_as(app, sessions, role: str | None, email: str | None = None):  # type: ignore[no-untyped-def]
    client = app.test_client()
    if role:
        sign_in(client, sessions, role, email)
    return client


def post(client, path: str, data: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    """A form POST with the session's CSRF token, as a page of the site sends it."""
    return client.post(path, data={"csrf_token": csrf_token(client, "/login"), **(data or {})})


def form(**values: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Stop the stops",
        "why": "A deputy said it on a hot mic.",
        "target": "both",
        "excerpts": "",
        "subject": "",
        "letter_template": "",
        "deadline": "",
        "daily_cap": "2000",
    }
    data.update(values)
    return data


def events(sessions, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def campaign(sessions, slug: str) -> Campaign:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return find_campaign(session, slug)


# --- who may come in ------------------------------------------------------------------------------------------


def pages(slug: str) -> list[str]:
    base = f"/admin/campaigns/{slug}"
    return ["/admin/campaigns", "/admin/campaigns/new", base, f"{base}/supporters", f"{base}/supporters.csv"]


def test_anonymous_visitors_are_sent_to_sign_in(app, sessions, theirs) -> None:  # type: ignore[no-untyped-def]
    client = client_as(app, sessions, None)
    for path in pages(theirs):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next=")
    for path in (f"/admin/campaigns/{theirs}/close", "/admin/campaigns"):
        response = post(client, path, form())
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert campaign(sessions, theirs).status == "draft"


def test_a_curator_is_refused_every_campaign_page(app, sessions, theirs) -> None:  # type: ignore[no-untyped-def]
    client = client_as(app, sessions, "curator")
    for path in pages(theirs):
        assert client.get(path).status_code == 403, path
    assert post(client, "/admin/campaigns", form()).status_code == 403
    assert post(client, f"/admin/campaigns/{theirs}/close").status_code == 403
    assert "Ana Alvarez" not in client.get(f"/admin/campaigns/{theirs}/supporters").get_data(as_text=True)
    assert events(sessions, "campaign-export") == []


def test_an_organizer_of_another_campaign_is_refused_it(app, sessions, theirs) -> None:  # type: ignore[no-untyped-def]
    client = client_as(app, sessions, "organizer", "ann@example.org")
    for path in pages(theirs)[2:]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Ana Alvarez" not in response.get_data(as_text=True)
        assert "You do not organise this campaign" in response.get_data(as_text=True)
    assert post(client, f"/admin/campaigns/{theirs}", form(title="Taken over")).status_code == 403
    for action in ("open", "close"):
        assert post(client, f"/admin/campaigns/{theirs}/{action}").status_code == 403
    # Adding organizers is for admins: an organizer cannot add themselves.
    assert post(client, f"/admin/campaigns/{theirs}/organizers", {"email": "ann@example.org"}).status_code == 403
    listing = client.get("/admin/campaigns").get_data(as_text=True)
    assert theirs not in listing
    assert client.get("/admin/campaigns/nosuch").status_code == 404
    after = campaign(sessions, theirs)
    assert (after.title, after.status, [row.user.email for row in after.organizers]) == (
        f"Bo's {XSS}",
        "draft",
        ["bo@example.org"],
    )
    assert events(sessions, "campaign-export") == []


def test_the_admin_reaches_every_campaign_and_manages_organizers(app, sessions, theirs) -> None:  # type: ignore[no-untyped-def]
    client = client_as(app, sessions, "admin")
    for path in pages(theirs):
        assert client.get(path).status_code == 200, path
    response = post(client, f"/admin/campaigns/{theirs}/organizers", {"email": "Bo@Example.org"})
    assert response.status_code == 303 and "already+organised+it" in response.headers["Location"]
    add_user(sessions, "organizer", "dee@example.org")
    assert post(client, f"/admin/campaigns/{theirs}/organizers", {"email": "dee@example.org"}).status_code == 303
    page = client.get(f"/admin/campaigns/{theirs}").get_data(as_text=True)
    assert "dee@example.org" in page and "Add an organizer account by email" in page
    refused = post(client, f"/admin/campaigns/{theirs}/organizers", {"email": "nobody@example.org"})
    assert refused.status_code == 400
    assert "email: no account &#39;nobody@example.org&#39;" in refused.get_data(as_text=True)
    assert post(client, f"/admin/campaigns/{theirs}/organizers/remove", {"email": "bo@example.org"}).status_code == 303
    assert [row.user.email for row in campaign(sessions, theirs).organizers] == ["dee@example.org"]
    assert [(e.target, e.detail["organizer"]) for e in events(sessions, "organizer-add")] == [
        (theirs, "dee@example.org")
    ]
    assert [e.detail["organizer"] for e in events(sessions, "organizer-remove")] == ["bo@example.org"]
    # Bo no longer organises it: refused at once.
    bo = app.test_client()
    assert log_in(bo, "bo@example.org").status_code == 303
    assert bo.get(f"/admin/campaigns/{theirs}").status_code == 403


def test_the_admin_dashboard_links_to_campaigns_for_organizers(app, sessions) -> None:  # type: ignore[no-untyped-def]
    client = client_as(app, sessions, "organizer")
    page = client.get("/admin").get_data(as_text=True)
    assert 'href="/admin/campaigns"' in page and 'href="/admin/campaigns/new"' in page


def test_state_changes_are_post_only(app, sessions, theirs) -> None:  # type: ignore[no-untyped-def]
    client = client_as(app, sessions, "admin")
    for path in ("open", "close", "organizers", "organizers/remove"):
        assert client.get(f"/admin/campaigns/{theirs}/{path}").status_code == 405, path
    response = client.post(f"/admin/campaigns/{theirs}/close", data={})  # no CSRF token
    assert response.status_code == 400 and "reload the page" in response.get_data(as_text=True)
    assert campaign(sessions, theirs).status == "draft"


# --- making, editing, opening, closing ------------------------------------------------------------------------


def test_an_organizer_makes_edits_opens_and_closes_a_campaign(app, sessions, excerpts) -> None:  # type: ignore[no-untyped-def]
    client = client_as(app, sessions, "organizer", "ann@example.org")
    new = client.get("/admin/campaigns/new").get_data(as_text=True)
    assert 'name="csrf_token"' in new and "{legislator_name}" in new and "{excerpt_link}" in new
    response = post(client, "/admin/campaigns", form(excerpts=f"{excerpts[0]}, {excerpts[1]}"))
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/admin/campaigns/stop-the-stops?done=")
    made = campaign(sessions, "stop-the-stops")
    assert [row.user.email for row in made.organizers] == ["ann@example.org"]  # its maker organises it
    assert (made.created_by, made.subject, made.status) == ("ann@example.org", "Stop the stops", "draft")
    assert [e.target for e in events(sessions, "campaign-create")] == ["stop-the-stops"]

    edit = client.get("/admin/campaigns/stop-the-stops").get_data(as_text=True)
    assert f'value="{excerpts[0]} {excerpts[1]}"' in edit and "Open to supporters" in edit
    saved = post(
        client,
        "/admin/campaigns/stop-the-stops",
        form(
            title="Stop the stops now",
            target="list",
            recipients=[HOUSE[1]],
            excerpts=excerpts[1],
            letter_template=TEMPLATE,
            daily_cap="40",
            deadline="2999-01-01",
        ),
    )
    assert saved.status_code == 303
    made = campaign(sessions, "stop-the-stops")
    assert (made.title, made.target, made.recipients, made.daily_cap) == ("Stop the stops now", "list", [HOUSE[1]], 40)
    assert [row.excerpt.slug for row in made.excerpts] == [excerpts[1]]
    assert made.letter_template == TEMPLATE
    assert made.subject == "Stop the stops now"  # an empty subject is the title
    edit = events(sessions, "campaign-edit")
    assert len(edit) == 1 and set(edit[0].detail["fields"]) == {
        "title",
        "subject",
        "target",
        "recipients",
        "letter_template",
        "deadline",
        "daily_cap",
        "excerpts",
    }

    assert post(client, "/admin/campaigns/stop-the-stops/open").status_code == 303
    assert campaign(sessions, "stop-the-stops").status == "open"
    assert "the public page" in client.get("/admin/campaigns/stop-the-stops").get_data(as_text=True)
    assert post(client, "/admin/campaigns/stop-the-stops/close").status_code == 303
    closed = campaign(sessions, "stop-the-stops")
    assert closed.status == "closed" and closed.closed_at is not None
    page = client.get("/admin/campaigns/stop-the-stops").get_data(as_text=True)
    assert "personal data will be deleted after" in page
    assert [len(events(sessions, a)) for a in ("campaign-open", "campaign-close")] == [1, 1]
    listing = client.get("/admin/campaigns").get_data(as_text=True)
    assert "Stop the stops now" in listing and "closed" in listing


def test_a_refused_form_keeps_what_was_typed_and_saves_nothing(app, sessions, excerpts) -> None:  # type: ignore[no-untyped-def]
    client = client_as(app, sessions, "organizer")
    response = post(client, "/admin/campaigns", form(title="Kept <b>title</b>", letter_template="Dear {rep},"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "letter_template: the letter uses {rep}, which is not a placeholder" in html
    assert 'value="Kept &lt;b&gt;title&lt;/b&gt;"' in html and ">Dear {rep},</textarea>" in html
    missing = post(client, "/admin/campaigns", form(excerpts="nosuch"))
    assert missing.status_code == 400 and "excerpt: no excerpt &#39;nosuch&#39;" in missing.get_data(as_text=True)
    with sessions() as session:
        assert session.scalars(select(Campaign)).all() == []

    post(client, "/admin/campaigns", form(excerpts=excerpts[0]))
    refused = post(
        client, "/admin/campaigns/stop-the-stops", form(title="Changed", letter_template=TEMPLATE, daily_cap="many")
    )
    assert refused.status_code == 400 and "daily_cap &#39;many&#39; is not a whole number" in refused.get_data(True)
    assert campaign(sessions, "stop-the-stops").title == "Stop the stops"
    assert events(sessions, "campaign-edit") == []


def test_opening_without_an_excerpt_says_why(app, sessions, excerpts) -> None:  # type: ignore[no-untyped-def]
    client = client_as(app, sessions, "organizer")
    post(client, "/admin/campaigns", form())
    response = post(client, "/admin/campaigns/stop-the-stops/open")
    assert response.status_code == 400
    assert "cites no excerpt: add at least one before opening it" in response.get_data(as_text=True)
    assert campaign(sessions, "stop-the-stops").status == "draft"
    assert events(sessions, "campaign-open") == []


def test_a_title_with_markup_is_text_on_every_admin_page(app, sessions, theirs) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert log_in(client, "bo@example.org").status_code == 303
    for path in pages(theirs)[:1] + pages(theirs)[2:4]:
        html = client.get(path).get_data(as_text=True)
        assert XSS not in html, path
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html, path


# --- supporters ---------------------------------------------------------------------------------------------------


def test_the_organizer_sees_supporters_and_nobody_caches_them(app, sessions, theirs) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    log_in(client, "bo@example.org")
    response = client.get(f"/admin/campaigns/{theirs}/supporters")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>", html)
    assert rows == [
        ("Ana Alvarez", "ana@example.org", "Burlington", "confirmed"),
        ("Cy Unsure", "cy@example.org", "Burlington", "unconfirmed"),
    ]
    assert "2 letters: 1 confirmed, 1 awaiting confirmation" in html


def test_the_csv_export_neutralises_formulas_and_is_audited(app, sessions, theirs) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        campaign_id = find_campaign(session, theirs).id
        add_letter(session, campaign_id, '=HYPERLINK("http://x")', "eve@example.org", town="@SUM(1)")
        add_letter(session, campaign_id, "+1-2", "-x@example.org", town="\tTab")
    client = app.test_client()
    log_in(client, "bo@example.org")
    response = client.get(f"/admin/campaigns/{theirs}/supporters.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{theirs}-supporters.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["name", "email", "town", "status", "created_at", "confirmed_at"]
    assert [row[:3] for row in rows[1:]] == [
        ["Ana Alvarez", "ana@example.org", "Burlington"],
        ["Cy Unsure", "cy@example.org", "Burlington"],
        ['\'=HYPERLINK("http://x")', "eve@example.org", "'@SUM(1)"],
        ["'+1-2", "'-x@example.org", "'\tTab"],
    ]
    assert rows[1][3] == "confirmed" and rows[1][5].endswith("+00:00") and rows[2][5] == ""
    exported = events(sessions, "campaign-export")
    assert [(e.actor, e.target, e.detail) for e in exported] == [("bo@example.org", theirs, {"rows": 4})]
    assert exported[0].address == "127.0.0.1"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_opening_while_the_mail_server_is_down_says_why_and_the_admin_shows_a_banner(  # type: ignore[no-untyped-def]
    app, sessions, excerpts, smtp_server
) -> None:
    from archive.mail import readiness

    client = client_as(app, sessions, "organizer")
    post(client, "/admin/campaigns", form(excerpts=excerpts[0]))
    readiness.forget()
    assert "Mail cannot be sent" not in client.get("/admin").get_data(as_text=True)
    smtp_server.stop()
    response = post(client, "/admin/campaigns/stop-the-stops/open")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "cannot open: Mail cannot be sent: the SMTP server 127.0.0.1:" in html
    assert "refused a test connection" in html and "TESTIMONY_SMTP_HOST" in html
    assert campaign(sessions, "stop-the-stops").status == "draft" and events(sessions, "campaign-open") == []
    banner = client.get("/admin").get_data(as_text=True)
    assert '<p class="error mail-trouble" role="alert">Mail cannot be sent' in banner
    assert "mail-trouble" not in client.get("/campaigns").get_data(as_text=True)  # the public never sees it
    smtp_server.start()
    readiness.forget()
    assert post(client, "/admin/campaigns/stop-the-stops/open").status_code == 303
    assert "mail-trouble" not in client.get("/admin").get_data(as_text=True)


def test_a_campaign_starts_from_an_excerpt_and_the_picker_finds_others(app, sessions, excerpts) -> None:  # type: ignore[no-untyped-def]
    """On both databases: the picker's ILIKE is the dialect's."""
    first, second = excerpts
    start = f'<a class="button" href="/admin/campaigns/new?excerpt={first}">Start a campaign with this excerpt</a>'
    assert start not in app.test_client().get(f"/excerpts/{first}").get_data(as_text=True)  # the public: no
    client = client_as(app, sessions, "organizer")
    assert start in client.get(f"/excerpts/{first}").get_data(as_text=True)
    new = client.get(f"/admin/campaigns/new?excerpt={first}").get_data(as_text=True)
    assert 'id="title" name="title" required maxlength="200" value="Hot mic"' in new
    assert f'<input id="excerpts" name="excerpts" value="{first}">' in new
    assert "{speaker} said this on the record" in new  # the default letter, to read and edit
    assert client.get("/admin/campaigns/new?excerpt=nosuch").status_code == 404
    # The picker: search, a preview of each (words, who, meeting, body, date), a button to add it.
    picked = client.get("/admin/campaigns/new?find=REPLY").get_data(as_text=True)
    picks = picked.split('<ul class="excerpt-picks">', 1)[1].split("</ul>", 1)[0]
    assert f"<code>{second}</code>" in picks and f"<code>{first}</code>" not in picks
    assert "You&#39;re here illegally and you&#39;re worried about being safe?" in picks
    assert "Vermont Criminal Justice Council" in picks and 'datetime="2024-02-07"' in picks
    assert f'data-add-excerpt="{second}"' in picks
    assert "No excerpt matches “nothing like it”" in client.get("/admin/campaigns/new?find=nothing like it").get_data(
        as_text=True
    )
    values = form(title="Hot mic", excerpts=f"{first} {second}")
    values.pop("letter_template")
    assert post(client, "/admin/campaigns", values).status_code == 303
    made = campaign(sessions, "hot-mic")
    assert "{speaker} said this on the record" in made.letter_template
