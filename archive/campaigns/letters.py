"""A supporter's letter: drafted from the campaign's template, written (unconfirmed) with its confirmation email
in one transaction, and sent to each legislator only after the supporter opens the emailed link and confirms.

Abuse limits live here, not in the web: a honeypot field, a minimum time to fill the form, letters per network
address per hour and per mailbox per day, and the campaign's daily cap. Each is a counter taken atomically in
the letter's own transaction (archive.db.limits), so concurrent letters cannot pass a limit together, and a letter
that is not stored takes nothing. A mailbox is its address normalised (case, a +tag: archive.mail.addresses
.limit_key), for the limit and for never writing a legislator twice. The network address is never stored, only
an HMAC of it keyed with the site's secret, so the tables cannot be read back into addresses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.campaigns.manage import is_open
from archive.campaigns.template import fill_template
from archive.config import Settings
from archive.db import limits
from archive.db.models import Campaign, Legislator, Letter
from archive.errors import InvalidInput, NotFound
from archive.excerpts.manage import ExcerptDocument, excerpt_document, is_withheld
from archive.legislators import find_legislators
from archive.locales import Text, translations
from archive.mail.addresses import check_address, clean_name, limit_key
from archive.mail.outbox import enqueue, idempotency_key
from archive.privacy.view import public_campaign_text

# Left in the supporter's editable letter and filled when it is sent: each legislator gets their own name, and
# the supporter's name and town are known only once the form is sent. Plain text replacement: the supporter's
# letter is never treated as a template (its braces are theirs).
LEGISLATOR_MARKER = "{legislator_name}"
SUPPORTER_MARKER = "{supporter_name}"
TOWN_MARKER = "{town}"
# What the supporter sees in their place in the editable letter: words, never a raw {placeholder}. The page's
# script fills the name and town in as they type; the server fills whatever is left when the letter is written.
SHOWN = {LEGISLATOR_MARKER: "[legislator's name]", SUPPORTER_MARKER: "[your name]", TOWN_MARKER: "[your town]"}
TITLES = {"house": "Representative", "senate": "Senator"}
NAME_LIMIT = 200
NAME_BYTES = 360  # encoded, with a 320-character address, a header line stays within 998
EMAIL_LIMIT = 320
TOWN_LIMIT = 200
BODY_LIMIT = 10_000
FALLBACK_SENDER = "letters@localhost"  # only for Message-IDs when no TESTIMONY_MAIL_FROM is set
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
# The same words whoever wrote from this network: they must not tell one person that another wrote letters.
# The form's fields as the page names them, for the errors that name one.
YOUR_NAME, YOUR_EMAIL, YOUR_TOWN = Text("Your name"), Text("Your email"), Text("Your town")
FROM_HERE = Text("We cannot take more letters from this network just now: please try again in an hour.")


class TooMany(InvalidInput):
    """A rate limit or the campaign's daily cap: the web answers 429, and the words say when to try again."""


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite keeps no time zone: it is UTC


def _now(now: dt.datetime | None) -> dt.datetime:
    return _utc(now) if now is not None else dt.datetime.now(dt.UTC)


def addressed(legislator: Legislator | dict[str, Any]) -> str:
    """'Representative Jane Doe', 'Senator …' (a recipient of unknown chamber: just the name)."""
    name, chamber = _get(legislator, "name"), _get(legislator, "chamber")
    title = TITLES.get(chamber or "")
    return f"{title} {name}" if title else name


def salutation(legislator: Legislator | dict[str, Any]) -> str:
    """'Dear Representative Jane Doe,' or 'Dear Senator …,'."""
    return f"Dear {addressed(legislator)},"


def _get(item: Legislator | dict[str, Any], key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else getattr(item, key)


def draft_letter(
    campaign: Campaign,
    supporter_name: str,
    town: str,
    *,
    session: Session,
    excerpt_link: str,
    legislator_name: str = LEGISLATOR_MARKER,
) -> str:
    """The campaign's template filled for this supporter; `legislator_name` (by default {legislator_name}) stays,
    to be filled per recipient. The form passes SHOWN's words for what it does not know yet.

    `excerpt_link` is the first excerpt's absolute address (the domain knows no host name)."""
    first = next((row.excerpt for row in campaign.excerpts if not is_withheld(session, row.excerpt)), None)
    values = {"legislator_name": legislator_name, "supporter_name": supporter_name, "town": town}
    if first is not None:
        values.update(evidence(excerpt_document(session, first)), excerpt_link=excerpt_link)
    # An organizer's letter may quote a cited meeting: what a speaker had withheld there is withheld here too.
    return fill_template(public_campaign_text(session, campaign.id, campaign.letter_template), values)


def evidence(document: ExcerptDocument) -> dict[str, str]:
    """Who said it, in which body and meeting, when, and the words: the excerpt as published (a withheld name
    is its pseudonym; a voice nobody has confirmed is "a speaker": nothing about a person on a machine's guess)."""
    meeting = document["meeting"]
    day = dt.date.fromisoformat(meeting["date"][:10])
    people = [
        f"{voice['name']} ({voice['role']})" if voice.get("role") else str(voice["name"])
        for voice in document["speakers"]
        if voice.get("name")
    ]
    return {
        "quote": document["quote"],
        "speaker": " and ".join(people) if people else "a speaker",
        "body": meeting["body"],
        "meeting": meeting["title"],
        "date": f"{day.day} {day.strftime('%B %Y')}",
    }


def recipients_for(session: Session, campaign: Campaign, districts: list[str]) -> list[dict[str, Any]]:
    """Who this supporter's letter goes to: their legislators in the campaign's chamber(s), or the campaign's own
    list. Each is {"name", "email", "chamber", "district", "party", "writable"}; one without an email address is
    listed (the supporter should know) but cannot be written to."""
    if campaign.target == "list":
        wanted = [email.lower() for email in campaign.recipients]
        rows = (
            session.scalars(select(Legislator).where(func.lower(Legislator.email).in_(wanted))).all() if wanted else []
        )
        people = {person.email.lower(): person for person in rows if person.email}
        found = []
        for email in wanted:
            person = people.get(email)
            found.append(
                _recipient(person)
                if person is not None
                else {"name": email, "email": email, "chamber": None, "district": None, "party": None, "writable": True}
            )
        return found
    chosen = [name for name in districts if name and name.strip()]
    if not chosen:
        return []
    chamber = campaign.target if campaign.target in TITLES else None
    lookup = find_legislators(session, district=chosen, chamber=chamber)
    return [_recipient(person) for person in lookup.legislators]


def _recipient(person: Legislator) -> dict[str, Any]:
    return {
        "name": person.name,
        "email": person.email,
        "chamber": person.chamber,
        "district": person.district,
        "party": person.party,
        "writable": bool(person.email),
    }


def address_hash(address: str, secret_key: str) -> str:
    """A keyed hash of the client's network address: enough to count letters from it, never to recover it."""
    return hmac.new(secret_key.encode("utf-8"), address.encode("utf-8"), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _line(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(Text("%(field)s: please fill this in", field=field))
    if len(value) > limit:
        raise InvalidInput(Text("%(field)s: at most %(limit)s characters, please", field=field, limit=limit))
    if "\r" in value or "\n" in value:
        raise InvalidInput(Text("%(field)s: please write it on one line", field=field))
    return value


def check_name(name: str) -> str:
    """The supporter's name as it will sign the letter and head its emails: one line, without control or format
    characters (archive.mail.addresses.clean_name), something left after that, and short enough that an email
    header carries it whole (200 emoji are 800 bytes: more than a header line holds once encoded)."""
    name = _line(clean_name(_line(name, YOUR_NAME, NAME_LIMIT)), YOUR_NAME, NAME_LIMIT)
    if len(name.encode("utf-8")) > NAME_BYTES:
        raise InvalidInput(Text("Your name: too long to go on an email; please shorten it"))
    return name


def check_email(email: str) -> str:
    """One address we can always deliver to: an internationalised domain is fine (it travels as punycode), letters
    outside ASCII before the @ are not (they need SMTPUTF8, which the archive's mail server may not offer)."""
    email = _line(email, YOUR_EMAIL, EMAIL_LIMIT)
    return check_address(email, YOUR_EMAIL, international=False)


def write_letter(
    session: Session,
    settings: Settings,
    campaign: Campaign,
    *,
    form_key: str,
    name: str,
    email: str,
    town: str,
    districts: list[str],
    body: str,
    address: str,
    shown_at: dt.datetime,
    secret_key: str,
    confirm_url: str,
    now: dt.datetime | None = None,
    honeypot: str = "",
    locale: str = "en",
) -> tuple[Letter | None, str | None]:
    """Store the letter (unconfirmed) and queue its confirmation email, in one transaction, and commit.

    Returns (letter, the plain confirmation token); the token is None when this form (`form_key`) already made
    the letter, so a second click or a concurrent resend makes no second letter and no second email; both are
    None when the mailbox has written its letters for the day (it is told by email, nobody else is).
    `confirm_url` is the confirmation page's absolute address with "{token}" where the token goes. The emails
    to the supporter are in `locale`, the language of the page they wrote on; the letter stays as they wrote it.
    """
    now = _now(now)
    earlier = session.scalar(select(Letter).where(Letter.form_key == form_key))
    if earlier is not None:
        return earlier, None
    if not is_open(campaign, now):
        raise InvalidInput(Text("This campaign is closed: it no longer sends letters."))
    if honeypot:
        # The field is hidden from people; only a form-filling robot writes in it. Say nothing more.
        raise InvalidInput(Text("The letter could not be accepted. If you are a person, please reload the page."))
    if (now - _utc(shown_at)).total_seconds() < settings.min_fill_seconds:
        raise InvalidInput(
            Text("That was quicker than a person can read the letter: please check it, then send it again.")
        )
    name = check_name(name)
    email = check_email(email)
    town = _line(clean_name(_line(town, YOUR_TOWN, TOWN_LIMIT)), YOUR_TOWN, TOWN_LIMIT)
    body = body.replace("\r\n", "\n").replace("\x00", "").strip()  # PostgreSQL keeps no NUL in text
    if not body:
        raise InvalidInput(
            Text("Your letter: it is empty; write a few words (or reload the page for the suggested text).")
        )
    if len(body) > BODY_LIMIT:
        raise InvalidInput(
            Text(
                "Your letter: at most %(limit)s characters, please (it has %(length)s).",
                limit=BODY_LIMIT,
                length=len(body),
            )
        )
    recipients = [r for r in recipients_for(session, campaign, districts) if r["writable"]]
    if not recipients:
        raise InvalidInput(
            Text("Your legislators: none found that we can write to. Find them by town or choose your district first.")
        )
    hashed = address_hash(address, secret_key)
    _check_daily_cap(session, campaign, now)
    if not limits.take(session, limits.key_of("letters-from", hashed), settings.letters_per_address_hour, HOUR, now):
        session.rollback()
        raise TooMany(FROM_HERE)
    mailbox = limit_key(email)
    if not limits.take(session, limits.key_of("letters-by", mailbox), settings.letters_per_email_day, DAY, now):
        # Refusing here would tell whoever typed this address that it wrote letters today: the page says "check
        # your email" as always, and only the mailbox hears why nothing came (once a day).
        _tell_the_mailbox(session, settings, campaign, email, mailbox, now, locale)
        session.commit()
        return None, None

    token = secrets.token_urlsafe(32)
    title = public_campaign_text(session, campaign.id, campaign.title)
    letter = Letter(
        campaign_id=campaign.id,
        form_key=form_key,
        supporter_name=name,
        supporter_email=email,
        town=town,
        subject=public_campaign_text(session, campaign.id, campaign.subject),
        body=fill_in(body, name, town),
        recipients=[{k: r[k] for k in ("name", "email", "chamber", "district")} for r in recipients],
        status="unconfirmed",
        confirm_token_sha256=token_hash(token),
        confirm_expires_at=now + dt.timedelta(hours=settings.confirm_hours),
        address_hash=hashed,
        created_at=now,
    )
    try:
        session.add(letter)
        session.flush()
        enqueue(
            session,
            key=idempotency_key("confirmation", form_key),
            sender=settings.mail_from or FALLBACK_SENDER,
            kind="confirmation",
            to_email=email,
            to_name=name,
            subject=(translations(locale).gettext("Please confirm your letter: %(title)s") % {"title": title})[:300],
            body=_confirmation_body(settings, title, letter, confirm_url.replace("{token}", token), locale),
            letter_id=letter.id,
            campaign_id=campaign.id,
        )
        session.commit()
    except IntegrityError:
        # The same form committed by a concurrent request (a double click): that one is the letter.
        session.rollback()
        earlier = session.scalar(select(Letter).where(Letter.form_key == form_key))
        if earlier is None:
            raise
        return earlier, None
    except Exception:
        session.rollback()
        raise
    return letter, token


def fill_in(body: str, name: str, town: str) -> str:
    """The supporter's letter with their name and town in place of the markers (raw or as SHOWN) still in it;
    the legislator's stays {legislator_name}, filled in each legislator's copy."""
    body = body.replace(SHOWN[LEGISLATOR_MARKER], LEGISLATOR_MARKER)
    for marker, value in ((SUPPORTER_MARKER, name), (TOWN_MARKER, town)):
        body = body.replace(marker, value).replace(SHOWN[marker], value)
    return body


def _daily_key(campaign: Campaign, now: dt.datetime) -> str:
    return limits.key_of("campaign-day", str(campaign.id), now.date().isoformat())


def _check_daily_cap(session: Session, campaign: Campaign, now: dt.datetime) -> None:
    """TooMany when the campaign has sent its confirmed letters for today (UTC); confirming takes the count."""
    if limits.counted(session, _daily_key(campaign, now), now) >= campaign.daily_cap:
        raise TooMany(_cap_words(campaign))


def _take_daily_cap(session: Session, campaign: Campaign, now: dt.datetime) -> None:
    midnight = dt.datetime.combine(now.date() + DAY, dt.time(), tzinfo=dt.UTC)
    if not limits.take(session, _daily_key(campaign, now), campaign.daily_cap, midnight - now, now):
        raise TooMany(_cap_words(campaign))


def _cap_words(campaign: Campaign) -> Text:
    return Text(
        "This campaign has sent its %(cap)s letters for today, as many as its organizers allow in a day: please"
        " come back tomorrow.",
        cap=campaign.daily_cap,
    )


def _tell_the_mailbox(
    session: Session, settings: Settings, campaign: Campaign, email: str, mailbox: str, now: dt.datetime, locale: str
) -> None:
    title = public_campaign_text(session, campaign.id, campaign.title)
    _ = translations(locale).gettext
    enqueue(
        session,
        key=idempotency_key("letters-limit", mailbox, now.date().isoformat()),
        sender=settings.mail_from or FALLBACK_SENDER,
        kind="notice",
        to_email=email,
        subject=(_("Your letter was not sent: %(title)s") % {"title": title})[:300],
        body=_(
            "Hello,\n\nA letter for “%(title)s” was written on %(site)s today with this email address. We accept"
            " at most %(most)s letters from one email address in a day, so it was not kept and nothing was sent."
            "\n\nIf you wrote it, please write it again tomorrow. If you did not, you can ignore this email.\n"
        )
        % {"title": title, "site": settings.site_name, "most": settings.letters_per_email_day},
        campaign_id=campaign.id,
    )


def _confirmation_body(settings: Settings, title: str, letter: Letter, link: str, locale: str) -> str:
    # The legislators' names as the letter addresses them ("Representative Jane Doe"): the letter's words.
    names = ", ".join(addressed(r) for r in letter.recipients)
    return translations(locale).gettext(
        "Hello %(name)s,\n\nYou wrote a letter for “%(title)s” on %(site)s to %(names)s.\n\nIt is not sent yet."
        " To send it, open this link and press “Send my letter”:\n\n%(link)s\n\nThe link works for %(hours)s"
        " hours. If you did not write this letter, ignore this email: nothing is sent without the link.\n"
    ) % {
        "name": letter.supporter_name,
        "title": title,
        "site": settings.site_name,
        "names": names,
        "link": link,
        "hours": settings.confirm_hours,
    }


def letter_for_token(session: Session, token: str, now: dt.datetime | None = None) -> Letter:
    """The unconfirmed letter a confirmation link names; NotFound for a link used already or never sent,
    InvalidInput for one that has expired. Changes nothing: mail scanners open links too."""
    letter = session.scalar(select(Letter).where(Letter.confirm_token_sha256 == token_hash(token))) if token else None
    if letter is None or letter.status != "unconfirmed":
        raise NotFound(
            Text(
                "This confirmation link has already been used, or it is not one we sent. If you pressed “Send my"
                " letter” before, your letter is on its way."
            )
        )
    if _utc(letter.confirm_expires_at) < _now(now):
        raise InvalidInput(
            Text("This confirmation link has expired (links work for a limited time): please write your letter again.")
        )
    return letter


def personal_letter(letter: Letter, recipient: dict[str, Any]) -> str:
    """What one legislator receives: their salutation, then the letter with their name filled in."""
    return f"{salutation(recipient)}\n\n{letter.body.replace(LEGISLATOR_MARKER, recipient['name'])}\n"


def confirm_letter(session: Session, settings: Settings, token: str, now: dt.datetime | None = None) -> Letter:
    """Confirm the letter and queue one email per legislator, in one transaction, and commit. A legislator this
    mailbox already wrote to in this campaign is not written to again (the outbox's idempotency key): when two of
    its letters are confirmed at once, one commit finds the other's key taken, and confirming again skips it."""
    now = _now(now)
    try:
        return _confirm(session, settings, token, now)
    except IntegrityError:  # rolled back: the other letter's emails are queued now, and these skip them
        return _confirm(session, settings, token, now)


def _confirm(session: Session, settings: Settings, token: str, now: dt.datetime) -> Letter:
    letter = letter_for_token(session, token, now)
    campaign = letter.campaign
    if not is_open(campaign, now):
        raise InvalidInput(Text("This campaign has closed since you wrote: your letter was not sent."))
    try:
        _take_daily_cap(session, campaign, now)
        letter.status = "confirmed"
        letter.confirmed_at = now
        letter.confirm_token_sha256 = None
        sender = settings.mail_from or FALLBACK_SENDER
        mailbox = limit_key(letter.supporter_email)
        for recipient in letter.recipients:
            enqueue(
                session,
                key=idempotency_key("letter", campaign.id, mailbox, recipient["email"].lower()),
                sender=sender,
                kind="letter",
                to_email=recipient["email"],
                to_name=recipient["name"],
                from_name=letter.supporter_name,
                reply_to=letter.supporter_email,
                subject=letter.subject,
                body=personal_letter(letter, recipient),
                letter_id=letter.id,
                campaign_id=campaign.id,
            )
        session.commit()
    except Exception:
        session.rollback()
        raise
    return letter
