"""The review's attacks on letters, reproduced against the app on SQLite and PostgreSQL: concurrent letters past
the limits, +tag addresses past the limit and the de-duplication, and formulas in the supporters' CSV."""

from __future__ import annotations

import dataclasses
import re
import threading

import pytest
from sqlalchemy import func, select

from archive.campaigns.export import supporters_csv
from archive.db.models import Letter, OutboxMessage
from archive.publish.formats import neutralise_formula
from tests.factories.campaigns import add_campaign_site

PAGE = "/campaigns/safe-streets"
LEGISLATOR = "jkrowinski@leg.state.vt.us"
LETTERS = 30
SENDER = "letters@archive.example"  # letters are taken only where mail can be sent


@pytest.fixture
def campaign_id(sessions, runner, tmp_path) -> int:  # type: ignore[no-untyped-def]
    return add_campaign_site(sessions, runner, tmp_path, target="list", recipients=[LEGISLATOR])


def form_of(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    html = client.get(PAGE).get_data(as_text=True)
    form = html.split('<form class="letter"', 1)[1].split("</form>", 1)[0]
    fields = dict(re.findall(r'<input[^>]*? name="([^"]+)"[^>]*? value="([^"]*)"', form))
    return fields | {"body": "Please act on the council's remark.", "town": "Burlington", "name": "Rosa Díaz"}


def concurrent_letters(app, emails: list[str], addresses: list[str]) -> list[int]:  # type: ignore[no-untyped-def]
    """One letter per (email, address), each from its own client and thread, all sent at once; the statuses."""
    posts = []
    for email, address in zip(emails, addresses, strict=True):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        posts.append((client, form_of(client) | {"email": email}))
    start = threading.Barrier(len(posts))
    statuses: list[int] = []

    def send(client, form: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        statuses.append(client.post(PAGE + "/letters", data=form).status_code)

    threads = [threading.Thread(target=send, args=post) for post in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return statuses


def stored(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return int(session.scalar(select(func.count(Letter.id))) or 0)


@pytest.mark.both_databases  # concurrent writers: each dialect's locking
def test_concurrent_letters_from_one_network_stop_at_the_limit(settings, sessions, campaign_id, app_for) -> None:  # type: ignore[no-untyped-def]
    """30 letters at once from one address, limit 10: a count read before the insert let 12 through."""
    app = app_for(dataclasses.replace(settings, mail_from=SENDER, min_fill_seconds=0, letters_per_address_hour=10))
    statuses = concurrent_letters(app, [f"s{n}@example.org" for n in range(LETTERS)], ["203.0.113.5"] * LETTERS)
    assert sorted(statuses) == [303] * 10 + [429] * (LETTERS - 10)
    assert stored(sessions) == 10


def test_tagged_addresses_are_one_mailbox_for_the_limit_even_at_once(settings, sessions, campaign_id, app_for) -> None:  # type: ignore[no-untyped-def]
    """name+1@, name+2@, … from 30 addresses at once, limit 5 a day: five letters are kept, the mailbox is told."""
    app = app_for(dataclasses.replace(settings, mail_from=SENDER, min_fill_seconds=0, letters_per_email_day=5))
    emails = [f"Rosa+{n}@Example.org" for n in range(LETTERS)]
    statuses = concurrent_letters(app, emails, [f"198.51.100.{n}" for n in range(LETTERS)])
    assert statuses == [303] * LETTERS  # the same page for everyone: nothing tells whether rosa@ wrote before
    assert stored(sessions) == 5
    with sessions() as session:
        kinds = dict(session.execute(select(OutboxMessage.kind, func.count()).group_by(OutboxMessage.kind)).all())
    assert kinds == {"confirmation": 5, "notice": 1}


def test_a_legislator_gets_one_letter_per_mailbox_whatever_its_tags(settings, sessions, campaign_id, app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for(dataclasses.replace(settings, mail_from=SENDER, min_fill_seconds=0))
    client = app.test_client()
    for email in ("rosa+one@example.org", "ROSA+two@example.org"):
        assert client.post(PAGE + "/letters", data=form_of(client) | {"email": email}).status_code == 303
    with sessions() as session:
        bodies = session.scalars(select(OutboxMessage.body).where(OutboxMessage.kind == "confirmation")).all()
    for body in bodies:
        link = re.search(r"http://localhost(/campaigns/\S+/confirm/\S+)", body).group(1)  # type: ignore[union-attr]
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(link).get_data(as_text=True)).group(1)  # type: ignore[union-attr]
        assert client.post(link, data={"csrf_token": token}).status_code == 303
    with sessions() as session:
        sent = session.scalars(select(OutboxMessage.reply_to).where(OutboxMessage.kind == "letter")).all()
        assert sent == ["rosa+one@example.org"]  # the second confirmation found the legislator written to
        assert {letter.status for letter in session.scalars(select(Letter))} == {"confirmed"}


@pytest.mark.parametrize("formula", ["=1+1", "＝1+1", "＋1", "－1", "＠SUM(A1)", "﹦1+1", "+1", "-1", "@x", "\t=1"])
def test_formulas_full_width_or_not_are_neutralised_in_the_supporters_csv(formula: str) -> None:
    assert neutralise_formula(formula) == "'" + formula
    letter = Letter(supporter_name=formula, supporter_email="rosa@example.org", town=formula, status="confirmed")
    row = supporters_csv([letter]).splitlines()[1]
    assert row.startswith(f"'{formula}") or row.startswith(f"\"'{formula}")
    assert neutralise_formula("Ana ＝ 1") == "Ana ＝ 1" and neutralise_formula("") == ""
