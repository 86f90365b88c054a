"""Campaign management: making, editing, opening, closing, who may manage, counts and the retention purge.

Both databases, real rows; letters are written as the letters' code leaves them (tests/campaigns/factories.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import delete, func, select

from archive.campaigns.manage import (
    add_organizer,
    campaigns_citing,
    can_manage,
    close_campaign,
    create_campaign,
    find_campaign,
    letter_counts,
    managed_campaigns,
    open_campaign,
    open_campaigns,
    purge_supporters,
    remove_organizer,
    set_excerpts,
    supporters,
    update_campaign,
)
from archive.campaigns.template import check_template, fill_template
from archive.db.models import Campaign, Excerpt, Legislator, Letter, OutboxMessage, User
from archive.errors import InvalidInput, NotFound
from tests.factories.campaigns import HOUSE, SENATE, add_directory, add_excerpts, add_letter, add_user

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def world(sessions) -> list[str]:  # type: ignore[no-untyped-def]
    """A directory of three legislators and two excerpts (their slugs)."""
    add_directory(sessions)
    return add_excerpts(sessions)


def make(sessions, **values) -> str:  # type: ignore[no-untyped-def]
    values.setdefault("title", "Stop the stops")
    with sessions() as session, session.begin():
        return create_campaign(session, now=NOW, **values).slug


def count(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(func.count(Campaign.id)))


# --- making -------------------------------------------------------------------------------------------------


def test_a_new_campaign_is_a_draft_with_a_unique_slug_and_a_default_letter(sessions, world) -> None:  # type: ignore[no-untyped-def]
    slugs = [make(sessions, title="Stop the stops!", excerpt_slugs=world, created_by="ana@example.org") for _ in "abc"]
    assert slugs == ["stop-the-stops", "stop-the-stops-2", "stop-the-stops-3"]
    with sessions() as session:
        campaign = find_campaign(session, "stop-the-stops")
        assert (campaign.status, campaign.target, campaign.created_by) == ("draft", "both", "ana@example.org")
        assert campaign.subject == "Stop the stops!"
        assert [row.excerpt.slug for row in campaign.excerpts] == world
        # The body only: the letters add "Dear {legislator_name}," for each legislator.
        check_template(campaign.letter_template)
        assert "{legislator_name}" not in campaign.letter_template
        for placeholder in ("{town}", "{quote}", "{excerpt_link}", "{supporter_name}"):
            assert placeholder in campaign.letter_template
        for placeholder in ("{speaker}", "{body}", "{meeting}", "{date}"):  # who said it, where and when
            assert placeholder in campaign.letter_template


def test_braces_in_a_title_stay_text_in_the_default_letter(sessions, world) -> None:  # type: ignore[no-untyped-def]
    slug = make(sessions, title="Fund {schools} now")
    with sessions() as session:
        template = find_campaign(session, slug).letter_template
    letter = fill_template(template, {"town": "Barre", "quote": "q", "excerpt_link": "l", "supporter_name": "Ana"})
    # The title is the subject, not part of the default letter: its braces never reach a template.
    assert "{schools}" not in template and "constituent in Barre." in letter
    assert slug == "fund-schools-now"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"title": "  "}, "title: a campaign needs a title"),
        ({"title": "x" * 201}, "title: 201 characters; the most is 200"),
        ({"target": "council"}, "target 'council' is not one of: house, senate, both, list"),
        ({"letter_template": "Dear {name}"}, "letter_template: the letter uses {name}, which is not a placeholder"),
        ({"letter_template": "50% {off"}, "letter_template: the letter has a lone '{'"),
        ({"subject": "Hi\r\nBcc: everyone@example.org"}, "subject must be one line"),
        ({"subject": "s" * 201}, "subject: 201 characters; the most is 200"),
        ({"deadline": "2026-02-30"}, "deadline '2026-02-30' is not a date in the form YYYY-MM-DD"),
        ({"deadline": "2026-02-28"}, "deadline 2026-02-28 has passed"),
        ({"daily_cap": 0}, "daily_cap must be a whole number from 1 to"),
        ({"why": "w" * 20_001}, "why: 20001 characters; the most is 20000"),
    ],
)
def test_bad_values_are_refused_naming_the_field_and_nothing_is_made(sessions, world, values, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as error:
        make(sessions, **values)
    assert message in str(error.value)
    assert count(sessions) == 0


def test_a_deadline_today_is_accepted(sessions, world) -> None:  # type: ignore[no-untyped-def]
    slug = make(sessions, deadline="2026-03-01")
    with sessions() as session:
        assert find_campaign(session, slug).deadline == dt.date(2026, 3, 1)


def test_an_unknown_excerpt_is_not_found_by_its_slug(sessions, world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound, match="no excerpt 'nosuch'"):
        make(sessions, excerpt_slugs=[world[0], "nosuch"])
    assert count(sessions) == 0


def test_a_list_campaign_writes_only_to_legislators_in_the_directory(sessions, world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match="recipients: a campaign with target 'list' needs at least one"):
        make(sessions, target="list")
    with pytest.raises(InvalidInput, match=r"recipients: mayor@burlingtonvt\.gov is not the email of a legislator"):
        make(sessions, target="list", recipients=[HOUSE[0], "mayor@burlingtonvt.gov"])
    with pytest.raises(InvalidInput, match="only a campaign with target 'list' has fixed recipients"):
        make(sessions, target="house", recipients=[HOUSE[0]])
    assert count(sessions) == 0
    slug = make(sessions, target="list", recipients=[HOUSE[1].upper(), " " + SENATE[0], HOUSE[1]])
    with sessions() as session:
        assert find_campaign(session, slug).recipients == [HOUSE[1], SENATE[0]]


# --- editing ------------------------------------------------------------------------------------------------


def test_an_edit_changes_what_it_names_and_never_the_slug(sessions, world) -> None:  # type: ignore[no-untyped-def]
    slug = make(sessions, target="list", recipients=[HOUSE[0]])
    with sessions() as session, session.begin():
        campaign = find_campaign(session, slug)
        update_campaign(session, campaign, title="A new title", why="Because.", daily_cap="50", deadline="", now=NOW)
    with sessions() as session, session.begin():
        campaign = find_campaign(session, slug)
        assert (campaign.slug, campaign.title, campaign.why, campaign.daily_cap) == (
            slug,
            "A new title",
            "Because.",
            50,
        )
        update_campaign(session, campaign, target="house")
    with sessions() as session:
        campaign = find_campaign(session, slug)
        assert (campaign.target, campaign.recipients) == ("house", [])  # fixed recipients go with the list target


def test_a_refused_edit_changes_nothing(sessions, world) -> None:  # type: ignore[no-untyped-def]
    slug = make(sessions)
    with sessions() as session, session.begin():
        campaign = find_campaign(session, slug)
        with pytest.raises(InvalidInput, match="letter_template: the letter uses {dear}"):
            update_campaign(session, campaign, title="Changed", letter_template="{dear}")
        with pytest.raises(InvalidInput, match="slug is not something a campaign has"):
            update_campaign(session, campaign, slug="other")
        with pytest.raises(InvalidInput, match="subject: a letter needs a subject"):
            update_campaign(session, campaign, subject="  ")
    with sessions() as session:
        campaign = find_campaign(session, slug)
        assert (campaign.slug, campaign.title) == (slug, "Stop the stops")


def test_an_unchanged_past_deadline_does_not_block_an_edit(sessions, world) -> None:  # type: ignore[no-untyped-def]
    slug = make(sessions, deadline="2026-03-05")
    later = NOW + dt.timedelta(days=10)
    with sessions() as session, session.begin():
        campaign = find_campaign(session, slug)
        update_campaign(session, campaign, deadline="2026-03-05", why="still", now=later)
        with pytest.raises(InvalidInput, match="deadline 2026-03-06 has passed"):
            update_campaign(session, campaign, deadline="2026-03-06", now=later)


def test_excerpts_are_set_in_order_and_an_open_campaign_keeps_one(sessions, world) -> None:  # type: ignore[no-untyped-def]
    slug = make(sessions, excerpt_slugs=world)
    with sessions() as session, session.begin():
        campaign = find_campaign(session, slug)
        set_excerpts(session, campaign, list(reversed(world)))  # the same excerpts, reordered
    with sessions() as session, session.begin():
        campaign = find_campaign(session, slug)
        assert [row.excerpt.slug for row in campaign.excerpts] == list(reversed(world))
        set_excerpts(session, campaign, [world[0]])
        open_campaign(session, campaign, now=NOW)
        with pytest.raises(InvalidInput, match="excerpts: an open campaign must cite at least one excerpt"):
            set_excerpts(session, campaign, [])
        with pytest.raises(NotFound, match="no excerpt 'gone'"):
            set_excerpts(session, campaign, ["gone"])
    with sessions() as session:
        assert [row.excerpt.slug for row in find_campaign(session, slug).excerpts] == [world[0]]


# --- opening and closing ------------------------------------------------------------------------------------


def test_opening_needs_an_excerpt_legislators_and_no_past_deadline(sessions) -> None:  # type: ignore[no-untyped-def]
    excerpts = add_excerpts(sessions)
    slug = make(sessions, deadline="2026-03-10")
    with sessions() as session, session.begin():
        campaign = find_campaign(session, slug)
        with pytest.raises(InvalidInput, match="cites no excerpt: add at least one before opening it"):
            open_campaign(session, campaign, now=NOW)
        set_excerpts(session, campaign, excerpts)
        with pytest.raises(InvalidInput, match="directory has nobody with an email in the house"):
            open_campaign(session, campaign, now=NOW)
    add_directory(sessions, senate=False)
    with sessions() as session, session.begin():
        campaign = find_campaign(session, slug)
        with pytest.raises(InvalidInput, match="nobody with an email in the senate"):
            open_campaign(session, campaign, now=NOW)  # "both" needs both chambers
        update_campaign(session, campaign, target="house")
        with pytest.raises(InvalidInput, match="deadline 2026-03-10 has passed: set a later one"):
            open_campaign(session, campaign, now=NOW + dt.timedelta(days=10))
        open_campaign(session, campaign, now=NOW)
        assert (campaign.status, campaign.opened_at) == ("open", NOW)
        with pytest.raises(InvalidInput, match="is already open"):
            open_campaign(session, campaign, now=NOW)
        with pytest.raises(InvalidInput, match="directory has nobody with an email in the senate"):
            update_campaign(session, campaign, target="senate")  # an open campaign keeps someone to write to
    with sessions() as session:
        assert find_campaign(session, slug).status == "open"


def test_a_list_campaign_whose_recipients_left_the_directory_does_not_open(sessions, world) -> None:  # type: ignore[no-untyped-def]
    slug = make(sessions, target="list", recipients=[HOUSE[0]], excerpt_slugs=world)
    with sessions() as session, session.begin():
        session.execute(delete(Legislator).where(Legislator.email == HOUSE[0]))  # a new import without them
    with sessions() as session, pytest.raises(InvalidInput, match=r"recipients: rep\.ames@leg\.state\.vt\.us not in"):
        open_campaign(session, find_campaign(session, slug), now=NOW)


def test_closing_sets_closed_at_and_a_closed_campaign_may_open_again(sessions, world) -> None:  # type: ignore[no-untyped-def]
    slug = make(sessions, excerpt_slugs=world)
    with sessions() as session, session.begin():
        campaign = find_campaign(session, slug)
        open_campaign(session, campaign, now=NOW)
        close_campaign(session, campaign, now=NOW + dt.timedelta(days=1))
        assert (campaign.status, campaign.closed_at) == ("closed", NOW + dt.timedelta(days=1))
        with pytest.raises(InvalidInput, match="is already closed"):
            close_campaign(session, campaign)
        open_campaign(session, campaign, now=NOW + dt.timedelta(days=2))
        assert (campaign.status, campaign.closed_at) == ("open", None)


def test_open_campaigns_are_open_with_no_past_deadline(sessions, world) -> None:  # type: ignore[no-untyped-def]
    draft = make(sessions, title="Draft", excerpt_slugs=world)
    ends = make(sessions, title="Ends soon", excerpt_slugs=world[:1], deadline="2026-03-02")
    always = make(sessions, title="Always", excerpt_slugs=world[1:])
    closed = make(sessions, title="Closed", excerpt_slugs=world)
    with sessions() as session, session.begin():
        for slug in (ends, always, closed):
            open_campaign(session, find_campaign(session, slug), now=NOW)
        close_campaign(session, find_campaign(session, closed), now=NOW)
    with sessions() as session:
        assert [c.slug for c in open_campaigns(session, now=NOW + dt.timedelta(days=1))] == [always, ends]
        # The deadline's whole day counts; the day after, the campaign is no longer open.
        assert [c.slug for c in open_campaigns(session, now=NOW + dt.timedelta(days=2))] == [always]
        first = session.scalar(select(Excerpt).where(Excerpt.slug == world[0]))
        assert [c.slug for c in campaigns_citing(session, first, now=NOW)] == [ends]
        assert draft not in [c.slug for c in open_campaigns(session, now=NOW)]


# --- who may manage -----------------------------------------------------------------------------------------


def test_admins_manage_all_organizers_only_their_own(sessions, world) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = make(sessions, title="Mine"), make(sessions, title="Theirs")
    with sessions() as session, session.begin():
        admin = add_user(session, "admin@example.org", "admin")
        ana = add_user(session, "ana@example.org", "organizer")
        bo = add_user(session, "bo@example.org", "organizer")
        curator = add_user(session, "cu@example.org", "curator")
        emails = [u.email for u in (admin, ana, bo, curator)]
        assert add_organizer(session, find_campaign(session, mine), ana) is True
        assert add_organizer(session, find_campaign(session, mine), ana) is False  # already
        add_organizer(session, find_campaign(session, theirs), bo)
        with pytest.raises(InvalidInput, match="cu@example.org is a curator: only organizer accounts"):
            add_organizer(session, find_campaign(session, mine), curator)
    with sessions() as session, session.begin():
        first, second = find_campaign(session, mine), find_campaign(session, theirs)
        admin, ana, bo, curator = (session.scalar(select(User).where(User.email == e)) for e in emails)
        assert [can_manage(u, first) for u in (admin, ana, bo, curator, None)] == [True, True, False, False, False]
        assert [can_manage(u, second) for u in (admin, ana, bo)] == [True, False, True]
        assert [c.slug for c in managed_campaigns(session, admin)] == [theirs, mine]
        assert [c.slug for c in managed_campaigns(session, ana)] == [mine]
        assert managed_campaigns(session, curator) == []
        ana.disabled_at = NOW
        assert can_manage(ana, first) is False
        assert remove_organizer(session, second, bo) is True
        assert remove_organizer(session, second, bo) is False
        assert can_manage(bo, second) is False


# --- counts and the retention purge -------------------------------------------------------------------------


def closed_campaign_with_letters(sessions, world, closed_at: dt.datetime) -> str:  # type: ignore[no-untyped-def]
    slug = make(sessions, excerpt_slugs=world)
    with sessions() as session, session.begin():
        campaign = find_campaign(session, slug)
        open_campaign(session, campaign, now=NOW)
        add_letter(session, campaign.id, "Ana Alvarez", "ana@example.org", sent=2, failed=1)
        add_letter(session, campaign.id, "Bo Brown", "bo@example.org", town="Barre", pending=3)
        add_letter(session, campaign.id, "Cy Unconfirmed", "cy@example.org", status="unconfirmed")
        close_campaign(session, campaign, now=closed_at)
    return slug


def test_letter_counts_by_status_and_emails_by_delivery(sessions, world) -> None:  # type: ignore[no-untyped-def]
    slug = closed_campaign_with_letters(sessions, world, NOW)
    with sessions() as session:
        counts = letter_counts(session, find_campaign(session, slug))
    assert counts == {
        "written": 3,
        "unconfirmed": 1,
        "confirmed": 2,
        "expired": 0,
        "sent": 2,
        "pending": 3,
        "failed": 1,
    }


def test_the_purge_blanks_supporters_after_the_retention_period_only(sessions, settings, world) -> None:  # type: ignore[no-untyped-def]
    settings = dataclasses.replace(settings, supporter_retention_days=90)
    closed_at = NOW
    old = closed_campaign_with_letters(sessions, world, closed_at)
    running = make(sessions, title="Still open", excerpt_slugs=world)
    with sessions() as session, session.begin():
        campaign = find_campaign(session, running)
        open_campaign(session, campaign, now=NOW)
        add_letter(session, campaign.id, "Dee Open", "dee@example.org", sent=1)
    with sessions() as session:
        before = letter_counts(session, find_campaign(session, old))

    # 89 days and 23 hours after closing: too soon, nothing changes.
    assert purge_supporters(settings, sessions, closed_at + dt.timedelta(days=90) - dt.timedelta(hours=1)) == 0
    with sessions() as session:
        assert {letter.supporter_name for letter in supporters(session, find_campaign(session, old))} == {
            "Ana Alvarez",
            "Bo Brown",
            "Cy Unconfirmed",
        }

    later = closed_at + dt.timedelta(days=90, hours=1)
    assert purge_supporters(settings, sessions, later) == 1
    with sessions() as session:
        campaign = find_campaign(session, old)
        assert campaign.purged_at is not None
        letters = supporters(session, campaign)
        assert len(letters) == 3
        for letter in letters:
            assert (letter.supporter_name, letter.supporter_email, letter.town, letter.body) == ("", "", "", "")
            assert (letter.recipients, letter.confirm_token_sha256, letter.address_hash) == ([], None, "")
        assert sorted(letter.status for letter in letters) == ["confirmed", "confirmed", "unconfirmed"]
        assert letter_counts(session, campaign) == before
        messages = session.scalars(select(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id)).all()
        assert len(messages) == 9
        for message in messages:
            assert (message.from_name, message.reply_to, message.body) == ("", None, "")
            if message.kind == "confirmation":
                assert message.to_email == ""  # it went to the supporter
            else:
                assert message.to_email.endswith("@leg.state.vt.us")  # a legislator's address is public
        # No trace of a supporter in any column of the campaign's letters and emails.
        rows = session.execute(select(Letter.__table__).where(Letter.campaign_id == campaign.id)).all()
        rows += session.execute(select(OutboxMessage.__table__).where(OutboxMessage.campaign_id == campaign.id)).all()
        text = " ".join(str(value) for row in rows for value in row)
        # Whole names and addresses: a two-letter fragment ("Cy") turns up in random tokens by chance.
        personal_data = (
            "Ana Alvarez",
            "ana@example.org",
            "Bo Brown",
            "bo@example.org",
            "Cy Unconfirmed",
            "cy@example.org",
        )
        for personal in personal_data + ("Barre", "Burlington"):
            assert personal not in text
        # The open campaign's supporters are untouched.
        assert [letter.supporter_name for letter in supporters(session, find_campaign(session, running))] == [
            "Dee Open"
        ]

    # Idempotent: run again, nothing more to do, and the campaign stays marked.
    assert purge_supporters(settings, sessions, later + dt.timedelta(days=1)) == 0
    with sessions() as session:
        assert find_campaign(session, old).purged_at is not None
        with pytest.raises(InvalidInput, match="supporters' data deleted: make a new one"):
            open_campaign(session, find_campaign(session, old), now=later)
