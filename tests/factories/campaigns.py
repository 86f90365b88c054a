"""Campaign test data written straight to the database: a small directory, excerpts, accounts and letters."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.cli.main import main
from archive.db.models import (
    Campaign,
    CampaignExcerpt,
    Excerpt,
    Legislator,
    Letter,
    Meeting,
    OutboxMessage,
    Segment,
    User,
)
from archive.excerpts.manage import create_excerpt
from archive.mail.outbox import idempotency_key
from tests.factories.meetings import Line, add_meeting, timed

HOUSE = ("rep.ames@leg.state.vt.us", "rep.baker@leg.state.vt.us")
SENATE = ("sen.cole@leg.state.vt.us",)


def add_directory(sessions: sessionmaker[Session], *, senate: bool = True) -> None:
    """Two representatives of Chittenden-15 and (unless senate=False) a senator of Chittenden."""
    rows = [
        Legislator(name=f"Rep {n}", chamber="house", district="Chittenden-15", email=e)
        for n, e in zip(("Ames", "Baker"), HOUSE, strict=True)
    ]
    if senate:
        rows.append(Legislator(name="Sen Cole", chamber="senate", district="Chittenden", email=SENATE[0]))
    with sessions() as session, session.begin():
        session.add_all(rows)


def add_excerpts(sessions: sessionmaker[Session], titles: tuple[str, ...] = ("Hot mic", "Reply")) -> list[str]:
    """A meeting and one excerpt per title; their slugs."""
    slug = f"2024-02-07-{secrets.token_hex(3)}"
    add_meeting(sessions, slug, [Line("You're here illegally and you're worried about being safe?", 41.0, 45.0)])
    with sessions() as session, session.begin():
        meeting = session.query(Meeting).filter_by(slug=slug).one()
        excerpts = [
            Excerpt(slug=f"x{secrets.token_hex(4)}", meeting_id=meeting.id, start=41.0, end=45.0, title=title)
            for title in titles
        ]
        session.add_all(excerpts)
        session.flush()
        return [excerpt.slug for excerpt in excerpts]


def add_user(session: Session, email: str, role: str) -> User:
    user = User(email=email, password_hash="not a hash: nobody signs in with it", role=role)
    session.add(user)
    session.flush()
    return user


def add_letter(
    session: Session,
    campaign_id: int,
    name: str,
    email: str,
    *,
    town: str = "Burlington",
    status: str = "confirmed",
    sent: int = 0,
    pending: int = 0,
    failed: int = 0,
) -> Letter:
    """A letter as the letters' code would leave it, with its confirmation request and emails to legislators."""
    now = dt.datetime.now(dt.UTC)
    letter = Letter(
        campaign_id=campaign_id,
        form_key=secrets.token_urlsafe(24),
        supporter_name=name,
        supporter_email=email,
        town=town,
        subject="Please act",
        body=f"I live in {town}. {name}",
        recipients=[{"name": "Rep Ames", "email": HOUSE[0], "chamber": "house", "district": "Chittenden-15"}],
        status=status,
        confirm_token_sha256=secrets.token_hex(32),
        confirm_expires_at=now + dt.timedelta(hours=48),
        confirmed_at=now if status == "confirmed" else None,
        address_hash=secrets.token_hex(32),
    )
    session.add(letter)
    session.flush()
    session.add(_message(letter, "confirmation", email, name, "sent"))
    for number, status_ in enumerate(["sent"] * sent + ["pending"] * pending + ["failed"] * failed):
        session.add(_message(letter, "letter", f"leg{number}@leg.state.vt.us", f"Legislator {number}", status_))
    session.flush()
    return letter


def _message(letter: Letter, kind: str, to_email: str, to_name: str, status: str) -> OutboxMessage:
    key = idempotency_key(kind, letter.id, to_email)
    return OutboxMessage(
        letter_id=letter.id,
        campaign_id=letter.campaign_id,
        kind=kind,
        idempotency_key=key,
        message_id=f"<{key[:40]}@archive.test>",
        to_email=to_email,
        to_name=to_name,
        from_name=letter.supporter_name if kind == "letter" else "",
        reply_to=letter.supporter_email if kind == "letter" else None,
        subject=letter.subject,
        body=letter.body,
        status=status,
    )


MEETING = "2024-02-07-council"


TEMPLATE = (
    "I live in {town}. At the council a member said: “{quote}” ({excerpt_link}).\n"
    "{legislator_name}, please act.\n\n{supporter_name}"
)


TOWNS = (
    "town,chamber,district\n"
    "Burlington,lower,Chittenden-15\n"
    "Burlington,lower,Chittenden-16\n"
    "Burlington,upper,Chittenden Central\n"
)


HOUSE_16 = {"Jill Krowinski": "jkrowinski@leg.state.vt.us", "Kate Logan": "klogan@leg.state.vt.us"}


# The senators of Chittenden Central, from the bundled directory (add_campaign_site imports it).
SENATE_CENTRAL = {
    "Martine Gulick": "mgulick@leg.state.vt.us",
    "Phil Baruth": "pbaruth@leg.state.vt.us",
    "Tanya Vyhovsky": "tvyhovsky@leg.state.vt.us",
}


def add_campaign_site(sessions, runner, tmp_path, **campaign) -> int:  # type: ignore[no-untyped-def]
    """A meeting with an excerpt, the Vermont directory with Burlington split, and a campaign citing the excerpt."""
    add_meeting(
        sessions,
        MEETING,
        [Line("You're here illegally and you're worried about being safe?", 41.0, 45.0, "Deputy Dan", "member")],
        title="Regular meeting",
    )
    with sessions() as session, session.begin():
        segment = session.scalar(select(Segment))
        segment.words = timed(segment.text, 41.0, 0.4)
    towns = tmp_path / "towns.csv"
    towns.write_text(TOWNS, encoding="utf-8")
    result = runner.invoke(main, ["legislators", "import", "--towns", str(towns)])
    assert result.exit_code == 0, result.output
    with sessions() as session, session.begin():
        excerpt = create_excerpt(session, MEETING, 41.0, 45.0, "Hot mic", created_by="test")
        values = {
            "slug": "safe-streets",
            "title": "Safe streets for everyone",
            "why": "A council member was heard on a hot mic.",
            "target": "both",
            "subject": "Please act on the council's remark",
            "letter_template": TEMPLATE,
            "status": "open",
        }
        values.update(campaign)
        made = Campaign(**values)
        made.excerpts.append(CampaignExcerpt(excerpt=excerpt, position=0))
        session.add(made)
        session.flush()
        return made.id
