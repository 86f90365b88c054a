"""Letters (archive.campaigns.letters): drafting, recipients, writing with its abuse limits, confirming into the
outbox; on SQLite and PostgreSQL, with the bundled Vermont directory and a small towns file."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select

from archive.campaigns.letters import (
    TooMany,
    confirm_letter,
    draft_letter,
    letter_for_token,
    recipients_for,
    salutation,
    write_letter,
)
from archive.campaigns.manage import letter_counts
from archive.db.models import Campaign, Legislator, Letter, OutboxMessage
from archive.errors import InvalidInput, NotFound
from tests.factories.campaigns import HOUSE_16, SENATE_CENTRAL, add_campaign_site

NOW = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
SECRET = "secret-key-for-tests"
CONFIRM = "https://archive.example/campaigns/c/confirm/{token}"


@pytest.fixture
def campaign_id(sessions, runner, tmp_path) -> int:  # type: ignore[no-untyped-def]
    return add_campaign_site(sessions, runner, tmp_path)


@pytest.fixture
def quick(settings):  # type: ignore[no-untyped-def]
    return dataclasses.replace(settings, mail_from="letters@archive.example")


def write(sessions, settings, campaign_id, **given):  # type: ignore[no-untyped-def]
    values = {
        "form_key": "form-key-0000000000000001",
        "name": "Rosa Díaz",
        "email": "Rosa@Example.org",
        "town": "Burlington",
        "districts": ["Chittenden-16", "Chittenden Central"],
        "body": "Dear {legislator_name}: please act.\n\n{supporter_name} of {town}",
        "address": "203.0.113.7",
        "shown_at": NOW - dt.timedelta(seconds=30),
        "secret_key": SECRET,
        "confirm_url": CONFIRM,
        "now": NOW,
    }
    values.update(given)
    with sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        letter, token = write_letter(session, settings, campaign, **values)
        return letter, token


def outbox(sessions, kind: str | None = None) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.to_email)
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        return list(session.scalars(query))


def letters(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(func.count(Letter.id)))


def test_salutations_name_the_chamber() -> None:
    assert salutation({"name": "Jane Doe", "chamber": "house"}) == "Dear Representative Jane Doe,"
    assert salutation({"name": "Phil Baruth", "chamber": "senate"}) == "Dear Senator Phil Baruth,"
    assert salutation({"name": "clerk@example.org", "chamber": None}) == "Dear clerk@example.org,"


def test_the_draft_fills_the_template_but_the_legislators_name(sessions, campaign_id) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        text = draft_letter(campaign, "Rosa", "Burlington", session=session, excerpt_link="https://a.example/x/1")
    assert text.startswith("I live in Burlington. At the council a member said: “You're here illegally")
    assert "worried about being safe?” (https://a.example/x/1)" in text
    assert "{legislator_name}, please act." in text and text.endswith("Rosa")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_default_letter_says_who_said_it_where_and_when(sessions, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The default letter names the speaker (as published), the body, the meeting and its date, quotes the words
    and links the excerpt; the supporter's form shows words where nothing is known yet, never {placeholders}."""
    from archive.campaigns.letters import SHOWN
    from archive.campaigns.manage import DEFAULT_TEMPLATE

    campaign_id = add_campaign_site(sessions, runner, tmp_path, letter_template=DEFAULT_TEMPLATE)
    with sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        text = draft_letter(
            campaign,
            SHOWN["{supporter_name}"],
            "Burlington",
            session=session,
            excerpt_link="https://a.example/excerpts/x1",
            legislator_name=SHOWN["{legislator_name}"],
        )
    assert text.startswith("I am writing to you as your constituent in Burlington.\n")
    assert (
        "At a public meeting of the Vermont Criminal Justice Council on 7 February 2024 (Regular meeting),"
        " Deputy Dan (member) said"
        " this on the record:\n\n\"You're here illegally and you're worried about being safe?\"" in text
    )
    assert "You can hear it for yourself: https://a.example/excerpts/x1" in text
    assert text.endswith("Sincerely,\n[your name]\nBurlington") and "{" not in text


def test_recipients_by_district_and_target(sessions, campaign_id) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        both = recipients_for(session, campaign, ["Chittenden-16", "Chittenden Central"])
        assert {r["name"]: r["email"] for r in both} == HOUSE_16 | SENATE_CENTRAL
        assert all(r["writable"] for r in both)
        campaign.target = "senate"
        assert {r["name"] for r in recipients_for(session, campaign, ["Chittenden-16", "Chittenden Central"])} == set(
            SENATE_CENTRAL
        )
        assert recipients_for(session, campaign, []) == []
        campaign.target = "list"
        campaign.recipients = ["PBaruth@leg.state.vt.us", "clerk@example.org"]
        listed = recipients_for(session, campaign, [])
        assert [(r["name"], r["chamber"]) for r in listed] == [("Phil Baruth", "senate"), ("clerk@example.org", None)]
        session.rollback()


def test_a_legislator_without_email_is_listed_but_not_written(sessions, quick, campaign_id) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        session.scalar(select(Legislator).where(Legislator.name == "Kate Logan")).email = None
    with sessions() as session:
        found = recipients_for(session, session.get(Campaign, campaign_id), ["Chittenden-16"])
    assert {r["name"]: r["writable"] for r in found} == {"Jill Krowinski": True, "Kate Logan": False}
    letter, _ = write(sessions, quick, campaign_id, districts=["Chittenden-16"])
    assert [r["name"] for r in letter.recipients] == ["Jill Krowinski"]


def test_writing_stores_an_unconfirmed_letter_and_only_a_confirmation(sessions, quick, campaign_id) -> None:  # type: ignore[no-untyped-def]
    letter, token = write(sessions, quick, campaign_id)
    assert token and letter.status == "unconfirmed" and letter.confirmed_at is None
    assert letter.supporter_email == "rosa@example.org"
    assert letter.body == "Dear {legislator_name}: please act.\n\nRosa Díaz of Burlington"
    assert letter.address_hash and "203.0.113.7" not in letter.address_hash
    assert token not in (letter.confirm_token_sha256 or "")  # only its hash is stored
    assert outbox(sessions, "letter") == []
    (confirmation,) = outbox(sessions)
    assert confirmation.kind == "confirmation" and confirmation.to_email == "rosa@example.org"
    assert f"https://archive.example/campaigns/c/confirm/{token}" in confirmation.body
    assert "Representative Jill Krowinski" in confirmation.body and "Senator Phil Baruth" in confirmation.body


def test_the_same_form_twice_makes_one_letter(sessions, quick, campaign_id) -> None:  # type: ignore[no-untyped-def]
    first, token = write(sessions, quick, campaign_id)
    again, none = write(sessions, quick, campaign_id, body="something else")
    assert none is None and again.id == first.id
    assert letters(sessions) == 1 and len(outbox(sessions)) == 1


def test_confirming_queues_one_letter_per_legislator(sessions, quick, campaign_id) -> None:  # type: ignore[no-untyped-def]
    _, token = write(sessions, quick, campaign_id)
    with sessions() as session:
        confirmed = confirm_letter(session, quick, token, now=NOW + dt.timedelta(hours=1))
    assert confirmed.status == "confirmed" and confirmed.confirm_token_sha256 is None
    sent = outbox(sessions, "letter")
    assert {m.to_email: m.to_name for m in sent} == {e: n for n, e in (HOUSE_16 | SENATE_CENTRAL).items()}
    for message in sent:
        assert message.from_name == "Rosa Díaz" and message.reply_to == "rosa@example.org"
        assert message.subject == "Please act on the council's remark"
        title = "Senator" if message.to_email in SENATE_CENTRAL.values() else "Representative"
        assert message.body.startswith(f"Dear {title} {message.to_name},\n\nDear {message.to_name}: please act.")
        assert message.message_id.endswith("@archive.example>")
    with sessions() as session:
        assert letter_counts(session, session.get(Campaign, campaign_id))["sent"] == 0  # queued, not yet delivered
        session.execute(OutboxMessage.__table__.update().values(status="sent"))
        session.commit()
        assert letter_counts(session, session.get(Campaign, campaign_id))["sent"] == 5


def test_a_used_an_unknown_and_an_expired_link_are_refused(sessions, quick, campaign_id) -> None:  # type: ignore[no-untyped-def]
    _, token = write(sessions, quick, campaign_id)
    _, late = write(sessions, quick, campaign_id, form_key="form-key-0000000000000002")
    with sessions() as session:
        confirm_letter(session, quick, token, now=NOW)
        with pytest.raises(NotFound, match="already been used"):
            confirm_letter(session, quick, token, now=NOW)
        with pytest.raises(NotFound, match="not one we sent"):
            letter_for_token(session, "made-up-token", now=NOW)
        with pytest.raises(InvalidInput, match="expired"):
            confirm_letter(session, quick, late, now=NOW + dt.timedelta(hours=quick.confirm_hours, seconds=1))
    assert len(outbox(sessions, "letter")) == 5  # the first letter's only


def test_a_second_letter_to_the_same_legislators_is_not_queued_again(sessions, quick, campaign_id) -> None:  # type: ignore[no-untyped-def]
    for key, districts in (
        ("form-key-0000000000000001", ["Chittenden-16"]),
        ("form-key-0000000000000002", ["Chittenden-16", "Chittenden Central"]),
    ):
        _, token = write(sessions, quick, campaign_id, form_key=key, districts=districts)
        with sessions() as session:
            confirm_letter(session, quick, token, now=NOW)
    assert len(outbox(sessions, "letter")) == 5  # two House members once, then the three senators


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"honeypot": "http://spam.example"}, "If you are a person"),
        ({"shown_at": NOW - dt.timedelta(seconds=2)}, "quicker than a person"),
        ({"name": "Rosa\r\nBcc: everyone@example.org"}, "Your name: please write it on one line"),
        ({"name": "  "}, "Your name: please fill this in"),
        ({"name": "x" * 201}, "Your name: at most 200"),
        ({"email": "a@example.org, b@example.org"}, "Your email: that does not look like one email address"),
        ({"email": "x" * 310 + "@example.org"}, "Your email: at most 320"),
        ({"town": ""}, "Your town: please fill this in"),
        ({"body": " \n "}, "Your letter: it is empty"),
        ({"body": "x" * 10_001}, "Your letter: at most 10,000 characters"),
        ({"districts": []}, "Your legislators: none found"),
    ],
)
def test_bad_input_is_refused_with_words_and_stores_nothing(sessions, quick, campaign_id, given, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match=words):
        write(sessions, quick, campaign_id, **given)
    assert letters(sessions) == 0 and outbox(sessions) == []


@pytest.mark.parametrize("status", ["draft", "closed"])
def test_a_campaign_not_open_takes_no_letters(sessions, quick, campaign_id, status) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        session.get(Campaign, campaign_id).status = status
    with pytest.raises(InvalidInput, match="closed"):
        write(sessions, quick, campaign_id)
    assert letters(sessions) == 0


def test_the_deadline_closes_the_campaign_after_its_day(sessions, quick, campaign_id) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        session.get(Campaign, campaign_id).deadline = NOW.date()
    write(sessions, quick, campaign_id)
    with pytest.raises(InvalidInput, match="closed"):
        write(sessions, quick, campaign_id, form_key="form-key-0000000000000002", now=NOW + dt.timedelta(days=1))


def test_rate_limits_per_address_and_per_mailbox(sessions, quick, campaign_id) -> None:  # type: ignore[no-untyped-def]
    limited = dataclasses.replace(quick, letters_per_address_hour=2, letters_per_email_day=3)
    for n in range(2):
        write(sessions, limited, campaign_id, form_key=f"form-key-address-{n:08d}", email=f"s{n}@example.org")
    with pytest.raises(TooMany, match="^We cannot take more letters from this network just now"):
        write(sessions, limited, campaign_id, form_key="form-key-address-00000009", email="s9@example.org")
    # An hour later the address may write again; the same mailbox (its case or a +tag aside) a third time in a day,
    # no more: the fourth is not kept, and only the mailbox is told, by email (a refusal would tell anyone).
    later = NOW + dt.timedelta(hours=1, minutes=1)
    write(sessions, limited, campaign_id, form_key="form-key-email-000000001", email="s0+news@example.org", now=later)
    write(
        sessions,
        limited,
        campaign_id,
        form_key="form-key-email-000000002",
        email="S0@example.org",
        now=later,
        address="198.51.100.1",
    )
    for n in (3, 4):
        assert write(
            sessions,
            limited,
            campaign_id,
            form_key=f"form-key-email-00000000{n}",
            email=f"s0+{n}@example.org",
            now=later,
            address=f"198.51.100.{n}",
        ) == (None, None)
    assert letters(sessions) == 4
    (notice,) = outbox(sessions, "notice")  # once a day, however many were refused
    assert notice.to_email == "s0+3@example.org" and "at most 3 letters from one email address" in notice.body


def test_the_daily_cap_counts_confirmed_letters_of_the_day(sessions, quick, campaign_id) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        session.get(Campaign, campaign_id).daily_cap = 1
    _, first = write(sessions, quick, campaign_id)
    _, second = write(sessions, quick, campaign_id, form_key="form-key-0000000000000002", email="b@example.org")
    with sessions() as session:
        confirm_letter(session, quick, first, now=NOW)
        with pytest.raises(TooMany, match="come back tomorrow"):
            confirm_letter(session, quick, second, now=NOW)
        with pytest.raises(TooMany, match="come back tomorrow"):
            session.rollback()
            campaign = session.get(Campaign, campaign_id)
            write_letter(
                session,
                quick,
                campaign,
                form_key="form-key-0000000000000003",
                name="C",
                email="c@example.org",
                town="Burlington",
                districts=["Chittenden-16"],
                body="Hi",
                address="192.0.2.1",
                shown_at=NOW - dt.timedelta(minutes=1),
                secret_key=SECRET,
                confirm_url=CONFIRM,
                now=NOW,
            )
        # The next UTC day the second supporter's link still works.
        confirm_letter(session, quick, second, now=NOW + dt.timedelta(days=1))
    assert len(outbox(sessions, "letter")) == 10  # each supporter's letter to the five legislators
