"""Campaign pages for supporters through Flask's test client: the page, the lookup, writing, confirming, the
thank-you page, abuse limits (429s), escaping, and the home and excerpt pages' campaign lists; both databases."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
from html import unescape

import pytest
from sqlalchemy import func, select, update

from archive.db.models import Campaign, Excerpt, Letter, OutboxMessage
from tests.factories.campaigns import HOUSE_16, SENATE_CENTRAL, add_campaign_site

PAGE = "/campaigns/safe-streets"
CHOSEN = PAGE + "?town=Burlington&district=Chittenden-16"
XSS = '"><script>alert(1)</script>'


@pytest.fixture
def site_settings(settings):  # type: ignore[no-untyped-def]
    """No minimum fill time (the test client is quicker than a person), and a sending address."""
    return dataclasses.replace(settings, min_fill_seconds=0, mail_from="letters@archive.example")


@pytest.fixture
def campaign_id(sessions, runner, tmp_path) -> int:  # type: ignore[no-untyped-def]
    return add_campaign_site(sessions, runner, tmp_path)


@pytest.fixture
def client(site_settings, campaign_id, app_for):  # type: ignore[no-untyped-def]
    return app_for(site_settings).test_client()


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def letter_form(client, path: str = CHOSEN) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The letter form's fields as the page fills them (hidden ones included; `district` may repeat)."""
    html = html_of(client.get(path))
    form = html.split('<form class="letter"', 1)[1].split("</form>", 1)[0]
    fields: dict[str, object] = {"district": []}
    for name, value in re.findall(r'<input[^>]*? name="([^"]+)"[^>]*? value="([^"]*)"', form):
        if name == "district":
            fields["district"].append(unescape(value))  # type: ignore[union-attr]
        else:
            fields[name] = unescape(value)
    fields["body"] = unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", form, re.S).group(1))
    return fields


def filled(client, path: str = CHOSEN, **values: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    form = letter_form(client, path)
    form.update({"name": "Rosa Díaz", "email": "rosa@example.org"})
    form.update(values)
    return form


def letters(sessions) -> list[Letter]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(Letter)))


def outbox(sessions, kind: str) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def confirmation_link(sessions) -> str:  # type: ignore[no-untyped-def]
    (message,) = outbox(sessions, "confirmation")
    return re.search(r"http://localhost(/campaigns/\S+/confirm/\S+)", message.body).group(1)


def write_and_confirm(client, sessions) -> None:  # type: ignore[no-untyped-def]
    assert client.post(PAGE + "/letters", data=filled(client)).status_code == 303
    link = confirmation_link(sessions)
    page = html_of(client.get(link))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(link, data={"csrf_token": token}).status_code == 303


# --- the page -----------------------------------------------------------------------------------------------


def test_the_page_shows_why_the_excerpts_and_the_counter(client, sessions) -> None:  # type: ignore[no-untyped-def]
    response = client.get(PAGE)
    assert response.status_code == 200
    html = html_of(response)
    with sessions() as session:
        slug = session.scalar(select(Excerpt.slug))
    assert "<h1>Safe streets for everyone</h1>" in html
    assert "A council member was heard on a hot mic." in html
    assert "You&#39;re here illegally and you&#39;re worried about being safe?" in html
    assert '<span class="speaker">Deputy Dan</span>' in html and "<cite>Regular meeting</cite>" in html
    assert '<a href="/meetings/2024-02-07-council?t=41">0:00:41' in html
    assert f'<source src="/excerpts/{slug}/clip.m4a" type="audio/mp4">' in html
    assert "<strong>0</strong> supporters · <strong>0</strong> confirmed letters</p>" in html
    assert '<input id="town" name="town" list="town-names"' in html and '<option value="Burlington">' in html
    assert '<select id="district-house" name="district">' in html and "<option>Chittenden-16</option>" in html
    assert '<form class="letter"' not in html  # no letter until the legislators are known


def test_the_counter_counts_supporters_letters_and_delivered_emails_and_names_nobody(client, sessions) -> None:  # type: ignore[no-untyped-def]
    """One supporter writing to five legislators is one supporter and one letter; its five emails are counted
    apart, as delivered only once their mail server took them."""
    write_and_confirm(client, sessions)
    queued = html_of(client.get(PAGE))
    assert (
        "<strong>1</strong> supporter · <strong>1</strong> confirmed letter · <strong>0</strong> emails of 5"
        " delivered to legislators</p>"
    ) in queued
    with sessions() as session, session.begin():
        session.execute(update(OutboxMessage).where(OutboxMessage.kind == "letter").values(status="sent"))
    html = html_of(client.get(PAGE))
    assert "<strong>1</strong> supporter · <strong>1</strong> confirmed letter · <strong>5</strong> emails of 5" in html
    assert "Rosa" not in html and "rosa@example.org" not in html
    listing = html_of(client.get("/campaigns"))
    assert "Safe streets for everyone" in listing and "1 supporter · 1 confirmed letter" in listing
    api = client.get("/api/campaigns/safe-streets").get_json()
    assert (api["supporters"], api["letters_confirmed"], api["emails_to_legislators"], api["letters_sent"]) == (
        1,
        1,
        5,
        5,
    )


@pytest.mark.parametrize("path", ["/campaigns/safe-streets", "/campaigns/safe-streets/thanks", "/campaigns/nothing"])
def test_a_draft_or_unknown_campaign_is_404(client, sessions, campaign_id, path) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        session.get(Campaign, campaign_id).status = "draft"
    assert client.get(path).status_code == 404
    assert "Safe streets" not in html_of(client.get("/campaigns")) and "Safe streets" not in html_of(client.get("/"))


def test_a_closed_campaign_says_so_and_takes_no_letter(client, sessions, campaign_id) -> None:  # type: ignore[no-untyped-def]
    form = filled(client)
    with sessions() as session, session.begin():
        session.get(Campaign, campaign_id).status = "closed"
    html = html_of(client.get(CHOSEN))
    assert "This campaign is closed" in html and "<form" not in html.split("<main", 1)[1]
    response = client.post(PAGE + "/letters", data=form)
    assert response.status_code == 400 and "This campaign is closed" in html_of(response)
    assert letters(sessions) == []


def test_a_split_town_offers_each_of_its_districts(client) -> None:  # type: ignore[no-untyped-def]
    html = html_of(client.get(PAGE + "?town=burlington"))
    assert "Burlington has more than one House district: which is yours?" in html
    for district in ("Chittenden-15", "Chittenden-16"):
        assert f'<input type="radio" name="district" value="{district}" required> {district}' in html
    assert '<form class="letter"' not in html  # not until the supporter chooses
    chosen = html_of(client.get(CHOSEN))
    assert "which is yours?" not in chosen and '<form class="letter"' in chosen
    for name in HOUSE_16 | SENATE_CENTRAL:
        assert f'<p class="name">{name}</p>' in chosen
    assert "Brian Cina" not in chosen  # Chittenden-15's
    assert '<p class="meta">House · Chittenden-16 · Democratic</p>' in chosen
    assert '<p class="meta">Senate · Chittenden Central · Democratic/Progressive</p>' in chosen
    form = letter_form(client)
    assert form["district"] == ["Chittenden-16", "Chittenden Central"] and form["lookup_town"] == "Burlington"
    assert form["town"] == "Burlington" and form["website"] == ""
    assert form["body"].startswith("I live in Burlington. At the council a member said:")  # type: ignore[union-attr]


def test_choosing_districts_from_the_lists_finds_the_legislators(client) -> None:  # type: ignore[no-untyped-def]
    form = letter_form(client, PAGE + "?district=Chittenden-16&district=Chittenden+Central")
    assert form["district"] == ["Chittenden-16", "Chittenden Central"] and form["town"] == ""
    # Words, not a raw {town}: filled with the town the supporter types (by the page's script, or when written).
    assert "I live in [your town]." in form["body"] and "{" not in form["body"]  # type: ignore[operator]


# --- writing and confirming ---------------------------------------------------------------------------------


def test_writing_stores_an_unconfirmed_letter_and_emails_only_the_supporter(client, sessions) -> None:  # type: ignore[no-untyped-def]
    form = filled(client, body="My own words to {legislator_name}.\n\n{supporter_name}")
    response = client.post(PAGE + "/letters", data=form)
    assert response.status_code == 303 and response.headers["Location"] == "/campaigns/safe-streets/letters/sent"
    (letter,) = letters(sessions)
    assert letter.status == "unconfirmed" and letter.body == "My own words to {legislator_name}.\n\nRosa Díaz"
    assert {r["name"] for r in letter.recipients} == set(HOUSE_16 | SENATE_CENTRAL)
    assert len(outbox(sessions, "confirmation")) == 1 and outbox(sessions, "letter") == []
    assert "Check your email" in html_of(client.get(response.headers["Location"]))
    again = client.post(PAGE + "/letters", data=form)  # the back button and send again: the same letter
    assert again.status_code == 303 and again.headers["Location"] == response.headers["Location"]
    assert len(letters(sessions)) == 1 and len(outbox(sessions, "confirmation")) == 1


class OtherHost:
    """A test client whose every request says `Host: evil.example` (cookies follow that host)."""

    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        self.client = client

    def get(self, path: str, **options):  # type: ignore[no-untyped-def]
        return self.client.get(path, base_url="http://evil.example", **options)

    def post(self, path: str, **options):  # type: ignore[no-untyped-def]
        return self.client.post(path, base_url="http://evil.example", **options)


def test_emailed_links_never_come_from_a_forged_host_header(sessions, site_settings, campaign_id, app_for) -> None:  # type: ignore[no-untyped-def]
    """Anyone can send a request with `Host: evil.example`; the confirmation link must not point there."""
    forged = OtherHost(app_for(site_settings).test_client())
    refused = forged.post(PAGE + "/letters", data=filled(forged))
    assert refused.status_code == 503 and "TESTIMONY_PUBLIC_URL" in html_of(refused)
    assert "Rosa Díaz" in html_of(refused)  # the letter is shown back, not lost
    assert letters(sessions) == [] and outbox(sessions, "confirmation") == []
    public = OtherHost(app_for(dataclasses.replace(site_settings, public_url="https://archive.example")).test_client())
    assert public.post(PAGE + "/letters", data=filled(public)).status_code == 303
    (message,) = outbox(sessions, "confirmation")
    assert "https://archive.example/campaigns/safe-streets/confirm/" in message.body
    assert "evil.example" not in message.body


def test_the_link_shows_the_letter_and_only_the_button_sends_it(client, sessions) -> None:  # type: ignore[no-untyped-def]
    client.post(PAGE + "/letters", data=filled(client, body="Hello {legislator_name}."))
    link = confirmation_link(sessions)
    shown = client.get(link)
    html = html_of(shown)
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert "Dear Representative Jill Krowinski,\n\nHello Jill Krowinski." in html
    assert '<button type="submit">Send my letter</button>' in html
    client.get(link)  # a mail scanner opening the link twice changes nothing
    assert [letter.status for letter in letters(sessions)] == ["unconfirmed"] and outbox(sessions, "letter") == []
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post(link).status_code == 400  # no CSRF token: refused
    response = client.post(link, data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/campaigns/safe-streets/thanks"
    messages = outbox(sessions, "letter")
    assert {m.to_email: m.to_name for m in messages} == {e: n for n, e in (HOUSE_16 | SENATE_CENTRAL).items()}
    for message in messages:
        assert message.from_name == "Rosa Díaz" and message.reply_to == "rosa@example.org"
        title = "Senator" if message.to_email in SENATE_CENTRAL.values() else "Representative"
        assert message.body == f"Dear {title} {message.to_name},\n\nHello {message.to_name}.\n"
    thanks = html_of(client.get(response.headers["Location"]))
    assert "your letter is on its way" in thanks
    # Right after sending, the supporter is counted (not "0 letters sent": none is delivered yet).
    assert "<strong>1</strong> supporter · <strong>1</strong> confirmed letter · <strong>0</strong> emails" in thanks
    assert 'href="https://bsky.app/intent/compose?text=' in thanks and "https://x.com/intent/post?" in thanks
    assert "text=I+wrote+to+my+legislators%3A+Safe+streets+for+everyone.+You+can+too%3A" in thanks
    assert "https://www.facebook.com/sharer/sharer.php?u=http%3A%2F%2Flocalhost%2Fcampaigns%2Fsafe-streets" in thanks
    assert 'data-copy-text="http://localhost/campaigns/safe-streets"' in thanks
    assert re.search(r'data-copy-text="http://localhost/excerpts/[A-Za-z0-9]+"', thanks)
    assert '<script src="/static/excerpt.js" defer>' in thanks and "<script>" not in thanks  # no inline scripts
    # The link again: used.
    reused = client.get(link)
    assert reused.status_code == 404 and "already been used" in html_of(reused)
    assert client.post(link, data={"csrf_token": token}).status_code == 404
    assert len(outbox(sessions, "letter")) == 5


def test_an_expired_link_is_refused(client, sessions) -> None:  # type: ignore[no-untyped-def]
    client.post(PAGE + "/letters", data=filled(client))
    link = confirmation_link(sessions)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html_of(client.get(link))).group(1)
    with sessions() as session, session.begin():
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.execute(update(Letter).values(confirm_expires_at=past))
    for response in (client.get(link), client.post(link, data={"csrf_token": token})):
        assert response.status_code == 400 and "has expired" in html_of(response)
    assert outbox(sessions, "letter") == []


@pytest.mark.both_databases  # concurrent writers: each dialect's locking
def test_the_same_form_sent_twice_at_once_makes_one_letter(client, sessions, app_for, site_settings) -> None:  # type: ignore[no-untyped-def]
    form = filled(client)
    other = client.application.test_client()
    other.set_cookie("session", client.get_cookie("session").value)  # the same browser: its CSRF token holds
    start = threading.Barrier(2)
    statuses: list[int] = []

    def send(each) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        statuses.append(each.post(PAGE + "/letters", data=form).status_code)

    threads = [threading.Thread(target=send, args=(each,)) for each in (client, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [303, 303]
    assert len(letters(sessions)) == 1 and len(outbox(sessions, "confirmation")) == 1


# --- refusals -----------------------------------------------------------------------------------------------


def test_a_filled_honeypot_is_refused_and_nothing_is_stored(client, sessions) -> None:  # type: ignore[no-untyped-def]
    response = client.post(PAGE + "/letters", data=filled(client, website="http://spam.example"))
    assert response.status_code == 400 and "If you are a person" in html_of(response)
    assert letters(sessions) == [] and outbox(sessions, "confirmation") == []


def test_a_form_sent_too_fast_is_refused_and_refilled(settings, campaign_id, app_for, sessions) -> None:  # type: ignore[no-untyped-def]
    # The default minimum: 5 seconds (a sending address, or no letter is taken at all).
    client = app_for(dataclasses.replace(settings, mail_from="letters@archive.example")).test_client()
    response = client.post(PAGE + "/letters", data=filled(client, body="Words I wrote carefully."))
    html = html_of(response)
    assert response.status_code == 400 and "quicker than a person" in html
    assert "Words I wrote carefully.</textarea>" in html and 'value="Rosa Díaz"' in html
    assert letters(sessions) == []


def test_a_forged_shown_at_is_refused(client, sessions) -> None:  # type: ignore[no-untyped-def]
    form = filled(client)
    response = client.post(PAGE + "/letters", data=dict(form, shown_at="eyJmb3JnZWQiOnRydWV9.AAAAAA.bad"))
    assert response.status_code == 400 and "too old or was changed" in html_of(response)
    other_key = dict(form, form_key="another-form-key-000000000")
    assert client.post(PAGE + "/letters", data=other_key).status_code == 400
    assert letters(sessions) == []


def test_a_line_break_in_the_name_is_refused_and_the_letter_kept(client, sessions) -> None:  # type: ignore[no-untyped-def]
    response = client.post(PAGE + "/letters", data=filled(client, name="Rosa\r\nBcc: all@example.org", body="Keep me"))
    html = html_of(response)
    assert response.status_code == 400 and "Your name: please write it on one line" in html
    assert "Keep me</textarea>" in html and '<p class="error" role="alert" id="letter-error">' in html
    assert letters(sessions) == []


def test_rate_limits_say_nothing_about_other_people(site_settings, campaign_id, app_for, sessions) -> None:  # type: ignore[no-untyped-def]
    limited = dataclasses.replace(site_settings, letters_per_address_hour=1, letters_per_email_day=1)
    client = app_for(limited).test_client()
    assert client.post(PAGE + "/letters", data=filled(client)).status_code == 303
    same_address = client.post(PAGE + "/letters", data=filled(client, email="other@example.org"))
    assert same_address.status_code == 429
    assert "We cannot take more letters from this network just now" in html_of(same_address)
    # Someone elsewhere types Rosa's address (as a +tag): the page is the one anybody gets; only Rosa's mailbox
    # hears that no more letters are taken from it today.
    elsewhere = app_for(limited).test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    same_email = elsewhere.post(PAGE + "/letters", data=filled(elsewhere, email="ROSA+x@example.org"))
    assert same_email.status_code == 303 and same_email.headers["Location"] == PAGE + "/letters/sent"
    assert "rosa" not in html_of(elsewhere.get(same_email.headers["Location"])).lower()
    fine = elsewhere.post(PAGE + "/letters", data=filled(elsewhere, email="someone@example.org"))
    assert fine.status_code == 429  # the address's one letter an hour was taken by the refused one
    assert len(letters(sessions)) == 1
    assert [m.to_email for m in outbox(sessions, "notice")] == ["rosa+x@example.org"]


def test_the_daily_cap_is_429(client, sessions, campaign_id) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        session.get(Campaign, campaign_id).daily_cap = 1
    write_and_confirm(client, sessions)
    response = client.post(PAGE + "/letters", data=filled(client, email="second@example.org"))
    assert response.status_code == 429 and "come back tomorrow" in html_of(response)
    with sessions() as session:
        assert session.scalar(select(func.count(Letter.id))) == 1


def test_names_and_letters_are_escaped(client, sessions, campaign_id) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        campaign = session.get(Campaign, campaign_id)
        campaign.title, campaign.why = f"Title {XSS}", f"Why {XSS}"
    html = html_of(client.get(CHOSEN))
    assert XSS not in html and "Title &#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    client.post(PAGE + "/letters", data=filled(client, name=f"Rosa {XSS}", body=f"Body {XSS}"))
    confirm = html_of(client.get(confirmation_link(sessions)))
    assert (
        XSS not in confirm and "Rosa &#34;&gt;&lt;script&gt;" in confirm and "Body &#34;&gt;&lt;script&gt;" in confirm
    )
    refilled = html_of(client.post(PAGE + "/letters", data=filled(client, name="x\ny", body=XSS, town=XSS)))
    assert XSS not in refilled and "&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in refilled
    town = html_of(client.get(PAGE, query_string={"town": XSS}))
    assert XSS not in town and "&lt;script&gt;" in town


# --- the home and excerpt pages -----------------------------------------------------------------------------


def test_home_and_excerpt_pages_list_open_campaigns(client, sessions, campaign_id) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        slug = session.scalar(select(Excerpt.slug))
    home = html_of(client.get("/"))
    assert '<h2 id="campaigns">Open campaigns</h2>' in home
    assert '<a href="/campaigns/safe-streets">Safe streets for everyone</a>' in home
    excerpt = html_of(client.get(f"/excerpts/{slug}"))
    assert "Campaigns citing this excerpt" in excerpt and '<a href="/campaigns/safe-streets">' in excerpt
    with sessions() as session, session.begin():
        session.get(Campaign, campaign_id).status = "closed"
    assert "Open campaigns" not in html_of(client.get("/"))
    assert "Campaigns citing this excerpt" not in html_of(client.get(f"/excerpts/{slug}"))


# --- the API ------------------------------------------------------------------------------------------------


def test_the_api_gives_public_fields_and_the_count(client, sessions, campaign_id) -> None:  # type: ignore[no-untyped-def]
    write_and_confirm(client, sessions)
    with sessions() as session, session.begin():
        session.execute(update(OutboxMessage).where(OutboxMessage.kind == "letter").values(status="sent"))
        slug = session.scalar(select(Excerpt.slug))
    (listed,) = client.get("/api/campaigns").get_json()["campaigns"]
    one = client.get("/api/campaigns/safe-streets").get_json()
    assert listed == one
    assert one["title"] == "Safe streets for everyone" and one["open"] is True and one["letters_sent"] == 5
    assert one["url"] == "http://localhost/campaigns/safe-streets"
    assert one["excerpts"] == [{"slug": slug, "title": "Hot mic", "url": f"http://localhost/excerpts/{slug}"}]
    assert "rosa" not in client.get("/api/campaigns/safe-streets").get_data(as_text=True).lower()
    with sessions() as session, session.begin():
        session.get(Campaign, campaign_id).status = "draft"
    missing = client.get("/api/campaigns/safe-streets")
    assert missing.status_code == 404 and missing.get_json() == {"error": "no campaign 'safe-streets'"}
    assert client.get("/api/campaigns").get_json() == {"campaigns": []}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_a_sending_address_a_letter_is_not_taken(site_settings, campaign_id, app_for, sessions) -> None:  # type: ignore[no-untyped-def]
    """Not "check your email" when no confirmation could be sent: a 503 that says so, the letter kept."""
    client = app_for(dataclasses.replace(site_settings, mail_from="")).test_client()
    response = client.post(PAGE + "/letters", data=filled(client, body="Keep these words"))
    html = html_of(response)
    assert response.status_code == 503 and "it has no sending address configured" in html
    assert "Keep these words</textarea>" in html and letters(sessions) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_refused_letter_comes_back_at_its_error(client, sessions) -> None:  # type: ignore[no-untyped-def]
    """A refused letter comes back with the error beside the form (the page's script focuses it; the browser
    test checks that). The minimum time is the page's to wait out (data-min-seconds)."""
    page = html_of(client.get(CHOSEN))
    assert 'data-min-seconds="0"' in page
    response = client.post(PAGE + "/letters", data=filled(client, name=""))
    assert response.status_code == 400
    assert '<p class="error" role="alert" id="letter-error">Your name: please fill this in</p>' in html_of(response)
