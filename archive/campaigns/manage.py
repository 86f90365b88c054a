"""Campaigns for their organizers: make, edit, open and close them, who may manage them, and the retention purge.

Functions take a Session and leave the commit to the caller (except `purge_supporters`, which runs on its own as
the worker's periodic job). Every value is checked before anything changes, so a refused edit loses nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from slugify import slugify
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from archive.campaigns.template import check_template
from archive.config import Settings
from archive.db.models import (
    CAMPAIGN_TARGETS,
    CHAMBERS,
    Campaign,
    CampaignExcerpt,
    CampaignOrganizer,
    Excerpt,
    Legislator,
    Letter,
    OutboxMessage,
    User,
)
from archive.db.types import utcnow
from archive.errors import InvalidInput, NotFound
from archive.mail.addresses import limit_key
from archive.mail.outbox import refuse_header_injection
from archive.mail.readiness import mail_problem

MAX_TITLE = 200
MAX_SUBJECT = 200
MAX_WHY = 20_000
MAX_TEMPLATE = 20_000
MAX_DAILY_CAP = 1_000_000
SLUG_LENGTH = 80  # the column holds 120: room for a numeric suffix
RESERVED_SLUGS = {"new"}  # /admin/campaigns/new is the form for a new campaign
# Who may be listed as a campaign's organizer (admins may manage every campaign anyway).
ORGANIZER_ROLES = ("organizer", "admin")
EDITABLE = ("title", "why", "target", "recipients", "subject", "letter_template", "deadline", "daily_cap")

# The body only: the letters add "Dear {legislator_name}," per legislator, so each gets their own letter.
# It says who said what, where and when, from the first excerpt (archive.campaigns.letters.draft_letter).
DEFAULT_TEMPLATE = """\
I am writing to you as your constituent in {town}.

At a public meeting of the {body} on {date} ({meeting}), {speaker} said this on the record:

"{quote}"

You can hear it for yourself: {excerpt_link}

I ask you to act on this, and to tell me what you will do.

Sincerely,
{supporter_name}
{town}"""


def _now(now: dt.datetime | None = None) -> dt.datetime:
    return now or utcnow()


# --- checking values ----------------------------------------------------------------------------------------


def _title(value: Any) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidInput("title must be text")
    title = " ".join((value or "").split())  # one line: it is also the default subject
    if not title:
        raise InvalidInput("title: a campaign needs a title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"title: {len(title)} characters; the most is {MAX_TITLE}")
    return title


def _subject(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput("subject must be text")
    refuse_header_injection(subject=value)
    subject = value.strip()
    if not subject:
        raise InvalidInput("subject: a letter needs a subject")
    if len(subject) > MAX_SUBJECT:
        raise InvalidInput(f"subject: {len(subject)} characters; the most is {MAX_SUBJECT}")
    return subject


def _text(value: Any, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text")
    text = value.replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise InvalidInput(f"{name}: {len(text)} characters; the most is {limit}")
    return text


def _template(value: Any) -> str:
    text = _text(value, "letter_template", MAX_TEMPLATE)
    if not text:
        raise InvalidInput("letter_template: the letter needs some words")
    try:
        check_template(text)
    except InvalidInput as error:
        raise InvalidInput(f"letter_template: {error}") from None
    return text


def _target(value: Any) -> str:
    if value not in CAMPAIGN_TARGETS:
        raise InvalidInput(f"target {value!r} is not one of: {', '.join(CAMPAIGN_TARGETS)}")
    return str(value)


def _recipients(session: Session, target: str, value: Any) -> list[str]:
    """Legislators' emails for a "list" campaign, lower-cased, each in the directory, once each, in order."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput("recipients must be a list of legislators' emails")
    emails: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise InvalidInput("recipients must be a list of legislators' emails")
        email = item.strip().lower()
        if email and email not in emails:
            emails.append(email)
    if target != "list":
        if emails:
            raise InvalidInput(f"recipients: only a campaign with target 'list' has fixed recipients, not {target!r}")
        return []
    if not emails:
        raise InvalidInput("recipients: a campaign with target 'list' needs at least one legislator's email")
    known = set(session.scalars(select(func.lower(Legislator.email)).where(func.lower(Legislator.email).in_(emails))))
    unknown = [email for email in emails if email not in known]
    if unknown:
        raise InvalidInput(f"recipients: {', '.join(unknown)} is not the email of a legislator in the directory")
    return emails


def _parse_deadline(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(f"deadline {value!r} is not a date in the form YYYY-MM-DD") from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidInput("deadline must be a date (YYYY-MM-DD)")
    return value


def _new_deadline(value: dt.date | None, today: dt.date) -> dt.date | None:
    """A deadline being set must be today or later (one left as it was may have passed)."""
    if value is not None and value < today:
        raise InvalidInput(f"deadline {value.isoformat()} has passed: give today or a later day")
    return value


def _daily_cap(value: Any) -> int:
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise InvalidInput(f"daily_cap {value!r} is not a whole number") from None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAILY_CAP:
        raise InvalidInput(f"daily_cap must be a whole number from 1 to {MAX_DAILY_CAP}")
    return value


def _excerpts(session: Session, slugs: Iterable[str]) -> list[Excerpt]:
    if isinstance(slugs, str):
        raise InvalidInput("excerpts must be a list of excerpt slugs")
    found: list[Excerpt] = []
    for raw in slugs:
        slug = str(raw).strip()
        if not slug:
            continue
        excerpt = session.scalar(select(Excerpt).where(Excerpt.slug == slug))
        if excerpt is None:
            raise NotFound(f"excerpt: no excerpt {slug!r}")
        if excerpt not in found:
            found.append(excerpt)
    return found


def _new_slug(session: Session, title: str) -> str:
    base = slugify(title, max_length=SLUG_LENGTH, word_boundary=True) or "campaign"
    taken = RESERVED_SLUGS | set(session.scalars(select(Campaign.slug).where(Campaign.slug.like(f"{base}%"))))
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


# --- making and editing -------------------------------------------------------------------------------------


def create_campaign(
    session: Session,
    *,
    title: str,
    why: str = "",
    target: str = "both",
    recipients: Iterable[str] = (),
    subject: str | None = None,
    letter_template: str | None = None,
    deadline: dt.date | str | None = None,
    excerpt_slugs: Iterable[str] = (),
    daily_cap: int = 2000,
    created_by: str = "",
    now: dt.datetime | None = None,
) -> Campaign:
    """A draft campaign with a slug made from its title (unique: -2, -3 … when taken); flushed, caller commits.

    Without a subject the title is used; without a template, DEFAULT_TEMPLATE.
    """
    clean_title = _title(title)
    clean_target = _target(target)
    values = {
        "title": clean_title,
        "why": _text(why, "why", MAX_WHY),
        "target": clean_target,
        "recipients": _recipients(session, clean_target, recipients),
        "subject": _subject(subject if subject and str(subject).strip() else clean_title),
        "letter_template": _template(
            letter_template if letter_template and str(letter_template).strip() else DEFAULT_TEMPLATE
        ),
        "deadline": _new_deadline(_parse_deadline(deadline), _now(now).date()),
        "daily_cap": _daily_cap(daily_cap),
    }
    excerpts = _excerpts(session, excerpt_slugs)
    campaign = Campaign(slug=_new_slug(session, clean_title), status="draft", created_by=created_by, **values)
    campaign.excerpts = [CampaignExcerpt(excerpt=excerpt, position=i) for i, excerpt in enumerate(excerpts)]
    session.add(campaign)
    session.flush()
    return campaign


def update_campaign(session: Session, campaign: Campaign, *, now: dt.datetime | None = None, **fields: Any) -> None:
    """Change any of EDITABLE; all are checked before any is set. The slug never changes (it is the address).

    A target other than "list" clears the fixed recipients; an empty subject or template is refused.
    """
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise InvalidInput(f"{unknown[0]} is not something a campaign has (editable: {', '.join(EDITABLE)})")
    _refuse_purged(campaign)
    target = _target(fields["target"]) if "target" in fields else campaign.target
    changes: dict[str, Any] = {}
    if "title" in fields:
        changes["title"] = _title(fields["title"])
    if "why" in fields:
        changes["why"] = _text(fields["why"], "why", MAX_WHY)
    if "target" in fields or "recipients" in fields:
        given = fields.get("recipients", campaign.recipients if target == "list" else ())
        changes["target"] = target
        changes["recipients"] = _recipients(session, target, given)
    if "subject" in fields:
        changes["subject"] = _subject(fields["subject"])
    if "letter_template" in fields:
        changes["letter_template"] = _template(fields["letter_template"])
    if "deadline" in fields:
        deadline = _parse_deadline(fields["deadline"])
        if deadline != campaign.deadline:
            changes["deadline"] = _new_deadline(deadline, _now(now).date())
    if "daily_cap" in fields:
        changes["daily_cap"] = _daily_cap(fields["daily_cap"])
    if campaign.status == "open" and changes.get("target", target) != campaign.target:
        _refuse_empty_directory(session, changes["target"], changes["recipients"])
    for name, value in changes.items():
        setattr(campaign, name, value)
    session.flush()


def set_excerpts(session: Session, campaign: Campaign, slugs: Iterable[str]) -> None:
    """The campaign cites these excerpts, in this order (the first is the letter's {quote})."""
    _refuse_purged(campaign)
    excerpts = _excerpts(session, slugs)
    if campaign.status == "open" and not excerpts:
        raise InvalidInput("excerpts: an open campaign must cite at least one excerpt")
    # Rows are kept and reordered rather than replaced: (campaign, excerpt) is unique, and a flush inserts
    # before it deletes.
    existing = {row.excerpt_id: row for row in campaign.excerpts}
    rows = []
    for position, excerpt in enumerate(excerpts):
        row = existing.get(excerpt.id) or CampaignExcerpt(excerpt=excerpt)
        row.position = position
        rows.append(row)
    campaign.excerpts = rows
    session.flush()


def find_campaign(session: Session, slug: str) -> Campaign:
    campaign = session.scalar(
        select(Campaign)
        .where(Campaign.slug == slug)
        .options(
            selectinload(Campaign.excerpts).selectinload(CampaignExcerpt.excerpt),
            selectinload(Campaign.organizers).selectinload(CampaignOrganizer.user),
        )
    )
    if campaign is None:
        raise NotFound(f"no campaign {slug!r}")
    return campaign


def public_campaign(session: Session, slug: str) -> Campaign:
    """The campaign as the public may see it: any but a draft (drafts are for their organizers only)."""
    campaign = find_campaign(session, slug)
    if campaign.status == "draft":
        raise NotFound(f"no campaign {slug!r}")
    return campaign


def _refuse_purged(campaign: Campaign) -> None:
    if campaign.purged_at is not None:
        raise InvalidInput(f"campaign {campaign.slug!r} was closed and its supporters' data deleted: make a new one")


# --- opening and closing ------------------------------------------------------------------------------------


def _refuse_empty_directory(session: Session, target: str, recipients: list[str]) -> None:
    """Letters need somebody to go to: every chamber the target names has legislators with an email."""
    if target == "list":
        known = set(session.scalars(select(func.lower(Legislator.email)).where(Legislator.email.is_not(None))))
        gone = [email for email in recipients if email not in known]
        if not recipients or gone:
            raise InvalidInput(
                f"recipients: {', '.join(gone) or 'none'} not in the legislator directory (it was re-imported?): "
                "choose the recipients again"
            )
        return
    for chamber in CHAMBERS if target == "both" else (target,):
        count = session.scalar(
            select(func.count(Legislator.id)).where(Legislator.chamber == chamber, Legislator.email.is_not(None))
        )
        if not count:
            raise InvalidInput(
                f"target: the legislator directory has nobody with an email in the {chamber}: "
                "load it first (testimony legislators import)"
            )


def open_campaign(
    session: Session, campaign: Campaign, *, now: dt.datetime | None = None, settings: Settings | None = None
) -> None:
    """Supporters may write from now: refused without an excerpt, legislators to write to, or with a past deadline,
    and (given the settings, as the CLI and the admin give them) while mail cannot be sent: a supporter's letter
    waits for a confirmation email that would never come.

    A closed campaign may be opened again until its supporters' data is purged.
    """
    now = _now(now)
    _refuse_purged(campaign)
    if campaign.status == "open":
        raise InvalidInput(f"campaign {campaign.slug!r} is already open")
    problem = mail_problem(settings) if settings is not None else None
    if problem:
        raise InvalidInput(f"campaign {campaign.slug!r} cannot open: {problem}")
    if not campaign.excerpts:
        raise InvalidInput(f"campaign {campaign.slug!r} cites no excerpt: add at least one before opening it")
    _refuse_empty_directory(session, campaign.target, list(campaign.recipients))
    if campaign.deadline is not None and campaign.deadline < now.date():
        raise InvalidInput(f"deadline {campaign.deadline.isoformat()} has passed: set a later one before opening")
    campaign.status = "open"
    campaign.opened_at = now
    campaign.closed_at = None
    session.flush()


def close_campaign(session: Session, campaign: Campaign, *, now: dt.datetime | None = None) -> None:
    """No more letters; the supporters' data is purged supporter_retention_days from now."""
    if campaign.status == "closed":
        raise InvalidInput(f"campaign {campaign.slug!r} is already closed")
    campaign.status = "closed"
    campaign.closed_at = _now(now)
    session.flush()


def is_open(campaign: Campaign, now: dt.datetime | None = None) -> bool:
    """Open and its deadline (the whole day, UTC) not past: what the public page and the letter form honour."""
    return campaign.status == "open" and (campaign.deadline is None or campaign.deadline >= _now(now).date())


def _open_query(now: dt.datetime | None) -> Select[Campaign]:
    today = _now(now).date()
    return select(Campaign).where(
        Campaign.status == "open", or_(Campaign.deadline.is_(None), Campaign.deadline >= today)
    )


def open_campaigns(session: Session, now: dt.datetime | None = None) -> list[Campaign]:
    """Campaigns supporters can write in now, the most recently opened first."""
    query = _open_query(now).order_by(Campaign.opened_at.desc(), Campaign.id.desc())
    return list(session.scalars(query.options(selectinload(Campaign.excerpts).selectinload(CampaignExcerpt.excerpt))))


def campaigns_citing(session: Session, excerpt: Excerpt, now: dt.datetime | None = None) -> list[Campaign]:
    """The open campaigns that cite this excerpt (its page links to them)."""
    query = (
        _open_query(now)
        .join(CampaignExcerpt, CampaignExcerpt.campaign_id == Campaign.id)
        .where(CampaignExcerpt.excerpt_id == excerpt.id)
        .order_by(Campaign.opened_at.desc(), Campaign.id.desc())
    )
    return list(session.scalars(query))


# --- who may manage -----------------------------------------------------------------------------------------


def can_manage(user: User | None, campaign: Campaign) -> bool:
    """Admins manage every campaign; an organizer only those that list them. Anyone else, none."""
    if user is None or user.disabled_at is not None:
        return False
    if user.role == "admin":
        return True
    return user.role == "organizer" and any(row.user_id == user.id for row in campaign.organizers)


def managed_campaigns(session: Session, user: User) -> list[Campaign]:
    """The campaigns this account may manage, newest first (all of them for an admin)."""
    query = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    if user.role != "admin":
        if user.role != "organizer" or user.disabled_at is not None:
            return []
        query = query.join(CampaignOrganizer, CampaignOrganizer.campaign_id == Campaign.id).where(
            CampaignOrganizer.user_id == user.id
        )
    return list(session.scalars(query))


def add_organizer(session: Session, campaign: Campaign, user: User) -> bool:
    """List an organizer (or admin) account as the campaign's; False when it already was."""
    if user.role not in ORGANIZER_ROLES:
        raise InvalidInput(f"{user.email} is a {user.role}: only organizer accounts organise campaigns")
    if any(row.user_id == user.id for row in campaign.organizers):
        return False
    campaign.organizers.append(CampaignOrganizer(user=user, user_id=user.id))
    session.flush()
    return True


def remove_organizer(session: Session, campaign: Campaign, user: User) -> bool:
    """Take an account off the campaign; False when it was not on it."""
    rows = [row for row in campaign.organizers if row.user_id == user.id]
    for row in rows:
        campaign.organizers.remove(row)
    session.flush()
    return bool(rows)


# --- counts and supporters ----------------------------------------------------------------------------------


def letter_counts(session: Session, campaign: Campaign) -> dict[str, int]:
    """Letters by status ("written" is all of them) and their emails to legislators: sent, pending, failed.

    Counts survive the retention purge. The public page shows only "sent".
    """
    counts = {"written": 0, "unconfirmed": 0, "confirmed": 0, "expired": 0, "sent": 0, "pending": 0, "failed": 0}
    for status, number in session.execute(
        select(Letter.status, func.count(Letter.id)).where(Letter.campaign_id == campaign.id).group_by(Letter.status)
    ):
        counts[status] = counts.get(status, 0) + number
        counts["written"] += number
    for status, number in session.execute(
        select(OutboxMessage.status, func.count(OutboxMessage.id))
        .where(OutboxMessage.campaign_id == campaign.id, OutboxMessage.kind == "letter")
        .group_by(OutboxMessage.status)
    ):
        key = "pending" if status in ("pending", "sending") else status
        counts[key] = counts.get(key, 0) + number
    return counts


def public_counts(session: Session, campaign: Campaign) -> dict[str, int]:
    """What the public pages count: supporters who confirmed, their letters, and the emails those letters became
    (one per legislator), of which `delivered` reached the legislators' mail servers. Never who wrote.

    A supporter is a mailbox (case and +tag folded); after the retention purge blanks the addresses, each
    purged letter counts as one supporter (a supporter writes once to each legislator: it is rarely two)."""
    counts = letter_counts(session, campaign)
    confirmed = select(Letter.supporter_email).where(Letter.campaign_id == campaign.id, Letter.status == "confirmed")
    emails = list(session.scalars(confirmed))
    mailboxes = {limit_key(email) for email in emails if email}
    purged = sum(1 for email in emails if not email)
    return {
        "supporters": len(mailboxes) + purged,
        "letters": counts["confirmed"],
        "emails": counts["sent"] + counts["pending"] + counts["failed"],
        "delivered": counts["sent"],
    }


def supporters(session: Session, campaign: Campaign) -> list[Letter]:
    """Every letter of the campaign, oldest first: personal data, for its organizers and admins only."""
    query = select(Letter).where(Letter.campaign_id == campaign.id).order_by(Letter.created_at, Letter.id)
    return list(session.scalars(query))


# --- retention ----------------------------------------------------------------------------------------------


def purge_supporters(settings: Settings, sessions: sessionmaker[Session], now: dt.datetime | None = None) -> int:
    """Blank supporters' personal data in campaigns closed more than supporter_retention_days ago; commits.

    Statuses and counts stay (a letter row, its emails' statuses); the names, emails, towns, letters, recipients
    and tokens go, from the letters and from their outbox messages. Idempotent: a purged campaign is marked
    (purged_at) and skipped. Returns how many campaigns were purged now. Fits the worker's periodic hook.
    """
    now = _now(now)
    cutoff = now - dt.timedelta(days=settings.supporter_retention_days)
    with sessions() as session, session.begin():
        due = session.scalars(
            select(Campaign).where(
                Campaign.status == "closed",
                Campaign.purged_at.is_(None),
                Campaign.closed_at.is_not(None),
                Campaign.closed_at < cutoff,
            )
        ).all()
        for campaign in due:
            letters = select(Letter.id).where(Letter.campaign_id == campaign.id)
            session.execute(
                update(Letter)
                .where(Letter.campaign_id == campaign.id)
                .values(
                    supporter_name="",
                    supporter_email="",
                    town="",
                    subject="",
                    body="",
                    recipients=[],
                    confirm_token_sha256=None,
                    address_hash="",
                )
            )
            messages = or_(OutboxMessage.letter_id.in_(letters), OutboxMessage.campaign_id == campaign.id)
            session.execute(update(OutboxMessage).where(messages).values(from_name="", reply_to=None, body=""))
            # A confirmation request (or a notice of the daily limit) went to the supporter: its address is theirs.
            session.execute(
                update(OutboxMessage)
                .where(messages, OutboxMessage.kind.in_(("confirmation", "notice")))
                .values(to_email="", to_name="")
            )
            campaign.purged_at = now
    return len(due)


def purge_due(campaign: Campaign, settings: Settings) -> dt.datetime | None:
    """When this campaign's supporters' data will be deleted (None: not closed, or already done)."""
    if campaign.status != "closed" or campaign.closed_at is None or campaign.purged_at is not None:
        return None
    return campaign.closed_at + dt.timedelta(days=settings.supporter_retention_days)
