"""Following by email, the Atom feeds' twin: a search, a body or a speaker, a daily digest of what is new.

Double opt-in: asking to follow stores an unconfirmed row and queues one confirmation email; nothing else is
ever sent to that address until its owner opens the link and presses the button. Then, once a day, the worker
(`send_digests`, a periodic task) queues one digest per follow that has something new, through the outbox like
every other email. Every digest carries a one-click unsubscribe link. The links are signed with the site's key
(itsdangerous), so no token is stored and none can be guessed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.db import limits
from archive.db.models import FOLLOW_KINDS, Body, Follow, Meeting
from archive.errors import InvalidInput, NotFound
from archive.locales import Text, say, translations
from archive.mail.addresses import check_address, limit_key
from archive.mail.outbox import enqueue, idempotency_key
from archive.privacy.view import redact_phrases, withheld_phrases
from archive.publish.people import person_record
from archive.search import SearchRequest
from archive.search.sync import backend_of

log = logging.getLogger(__name__)
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
REQUESTS_PER_ADDRESS_HOUR = 10
REQUESTS_PER_MAILBOX_DAY = 5
QUERY_LIMIT = 200
MAX_ITEMS = 30  # listed in one digest; "and N more" after
FALLBACK_SENDER = "follow@localhost"
ACTIONS = ("confirm", "unsubscribe")


NOT_OURS = Text("This link is not one we sent.")


@dataclass(frozen=True)
class Target:
    kind: str
    target: str
    label: str  # a Text where the archive wrote it;  "the search “budget”", "Burlington City Council", "Jane Doe"


@dataclass(frozen=True)
class Item:
    title: str
    url: str  # site-relative
    detail: str = ""


def target_for(session: Session, kind: str, target: str) -> Target:
    """What a follow names, checked: a search's words, a body's slug, a public speaker's id; InvalidInput else."""
    target = " ".join((target or "").split())
    if kind not in FOLLOW_KINDS:
        raise InvalidInput(Text("follow: kind must be one of %(kinds)s", kinds=", ".join(FOLLOW_KINDS)))
    if not target:
        raise InvalidInput(Text("follow: nothing to follow (a search needs words)"))
    if len(target) > QUERY_LIMIT:
        raise InvalidInput(Text("follow: at most %(limit)s characters", limit=QUERY_LIMIT))
    if kind == "search":
        return Target(kind, target, Text("the search “%(words)s”", words=target))
    if kind == "body":
        body = session.scalar(select(Body).where(Body.slug == target))
        if body is None:
            raise NotFound(Text("no body %(slug)s", slug=repr(target)))
        return Target(kind, body.slug, body.name)
    if not target.isdigit():
        raise NotFound(Text("no speaker %(id)s", id=repr(target)))
    record = person_record(session, int(target), 1, 1)  # NotFound for a person without a public page
    name = record["person"].get("name")
    return Target(kind, target, str(name) if name else Text("speaker %(id)s", id=target))


def label_of(follow: Follow) -> str:
    """What a follow follows, as its pages say it: a search in the reader's language (a Text), else its name."""
    return Text("the search “%(words)s”", words=follow.target) if follow.kind == "search" else follow.label


def address_hash(address: str, secret_key: str) -> str:
    """A keyed hash of the asker's network address, for the hourly limit: never the address itself."""
    return hmac.new(secret_key.encode("utf-8"), address.encode("utf-8"), hashlib.sha256).hexdigest()


def _signer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="follow-by-email")


def token(follow: Follow, action: str, secret_key: str) -> str:
    """The signed part of a confirmation or unsubscribe link: the follow, the action, and its mailbox's hash (an
    address changed since makes the old link void)."""
    return str(_signer(secret_key).dumps([follow.id, action, _mailbox_hash(follow.email_key)]))


def _mailbox_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def follow_for(session: Session, signed: str, action: str, secret_key: str) -> Follow:
    """The follow a signed link names; NotFound for a link we did not sign (or for another action)."""
    try:
        follow_id, signed_action, mailbox = _signer(secret_key).loads(signed)
    except (BadSignature, ValueError, TypeError):
        raise NotFound(NOT_OURS) from None
    follow = session.get(Follow, follow_id) if isinstance(follow_id, int) else None
    if follow is None or signed_action != action or not hmac.compare_digest(mailbox, _mailbox_hash(follow.email_key)):
        raise NotFound(NOT_OURS)
    return follow


def request_follow(
    session: Session,
    settings: Settings,
    *,
    kind: str,
    target: str,
    email: str,
    address_hash: str,
    secret_key: str,
    base_url: str,
    now: dt.datetime | None = None,
    locale: str = "en",
) -> Follow | None:
    """Ask to follow: an unconfirmed follow and its confirmation email (at most one a day per follow), committed.

    The answer is the same whoever asks ("check your email"): an address already following, or past its daily
    limit, is told nothing on the page and gets no second email. None when nothing was stored."""
    now = now or dt.datetime.now(dt.UTC)
    found = target_for(session, kind, target)
    email = check_address((email or "").strip(), Text("Your email"), international=False)
    mailbox = limit_key(email)
    if not limits.take(session, limits.key_of("follows-from", address_hash), REQUESTS_PER_ADDRESS_HOUR, HOUR, now):
        session.rollback()
        raise InvalidInput(
            Text("We cannot take more requests from this network just now: please try again in an hour.")
        )
    if not limits.take(session, limits.key_of("follows-by", mailbox), REQUESTS_PER_MAILBOX_DAY, DAY, now):
        session.commit()
        return None
    follow = session.scalar(
        select(Follow).where(Follow.email_key == mailbox, Follow.kind == found.kind, Follow.target == found.target)
    )
    if follow is not None and follow.status == "active":
        session.commit()
        return follow
    if follow is None:
        # The label is kept in English (the digests' words); the confirmation below says it in the asker's language.
        follow = Follow(kind=found.kind, target=found.target, label=str(found.label), email=email, email_key=mailbox)
        session.add(follow)
    follow.status, follow.email, follow.created_at, follow.unsubscribed_at = "unconfirmed", email, now, None
    session.flush()
    link = f"{base_url}/follow/confirm/{token(follow, 'confirm', secret_key)}"
    _ = translations(locale).gettext
    label = say(found.label, locale)
    enqueue(
        session,
        key=idempotency_key("follow-confirm", follow.id, now.date().isoformat()),
        sender=settings.mail_from or FALLBACK_SENDER,
        kind="follow",
        to_email=email,
        subject=(_("Please confirm: follow %(label)s by email") % {"label": label})[:300],
        body=_(
            "Hello,\n\nSomeone (we hope you) asked %(site)s to email this address a daily digest of what is new"
            " for %(label)s.\n\nTo start, open this link and press “Follow”:\n\n%(link)s\n\nIf you did not ask,"
            " ignore this email: nothing more is sent without the link.\n"
        )
        % {"site": settings.site_name, "label": label, "link": link},
    )
    session.commit()
    return follow


def confirm_follow(session: Session, follow: Follow, now: dt.datetime | None = None) -> None:
    """Start the digests: from now on, what is new is sent once a day. Committed."""
    now = now or dt.datetime.now(dt.UTC)
    if follow.status != "active":
        follow.status, follow.confirmed_at, follow.since, follow.unsubscribed_at = "active", now, now, None
    session.commit()


def unsubscribe(session: Session, follow: Follow, now: dt.datetime | None = None) -> None:
    follow.status, follow.unsubscribed_at = "unsubscribed", now or dt.datetime.now(dt.UTC)
    session.commit()


# --- the daily digest ---------------------------------------------------------------------------------------


def new_items(session: Session, sessions: sessionmaker[Session], follow: Follow, since: dt.datetime) -> list[Item]:
    """What is new for a follow: in meetings added to the archive after `since`, as the public sees them."""
    new = {
        meeting.slug: meeting
        for meeting in session.scalars(select(Meeting).where(Meeting.created_at > since).order_by(Meeting.date))
    }
    if not new:
        return []
    if follow.kind == "body":
        phrases = withheld_phrases(session, [m.id for m in new.values()])
        return [
            Item(redact_phrases(m.title, phrases.get(m.id, [])), f"/meetings/{m.slug}", m.date.isoformat())
            for m in new.values()
            if m.body is not None and m.body.slug == follow.target
        ]
    if follow.kind == "speaker":
        try:
            record: dict[str, Any] = person_record(session, int(follow.target), 1, 1)
        except NotFound:
            return []  # no longer public: nothing to tell
        return [
            Item(m["title"], m["url"], f"{m['date']}, {m['statements']} statements")
            for m in record["meetings"]
            if m["slug"] in new
        ]
    # Each new meeting searched on its own (the `meeting` filter): its hits, however many older meetings match.
    backend = backend_of(sessions)
    return [
        Item(hit.meeting_title, hit.url, f"{hit.meeting_date.isoformat()}: {hit.text[:200]}")
        for slug in new
        for hit in backend.search(SearchRequest(q=follow.target, meeting=slug, per_page=MAX_ITEMS)).hits
    ]


def send_digests(
    settings: Settings,
    sessions: sessionmaker[Session],
    now: dt.datetime,
    *,
    secret_key: str,
    every: dt.timedelta = DAY,
) -> int:
    """Queue a digest for every confirmed follow last looked at `every` ago or more that has something new;
    returns how many were queued. Unconfirmed and unsubscribed follows are never written to."""
    base = settings.public_url.rstrip("/")
    if not base:
        log.warning("follow digests wait for TESTIMONY_PUBLIC_URL: their links need the site's address")
        return 0
    queued = 0
    with sessions() as session:
        due = session.scalars(select(Follow).where(Follow.status == "active").order_by(Follow.id)).all()
        for follow in due:
            since = _utc(follow.since or follow.confirmed_at or now)
            if follow.last_digest_at is not None and now - _utc(follow.last_digest_at) < every:
                continue
            try:
                items = new_items(session, sessions, follow, since)
            except Exception:  # one follow's failure (a query the index refuses, say) must not stop the others
                session.rollback()
                log.exception("follow %s: its digest could not be made; it is tried again next round", follow.id)
                continue
            if items:
                enqueue(
                    session,
                    key=idempotency_key("follow-digest", follow.id, now.isoformat()),
                    sender=settings.mail_from or FALLBACK_SENDER,
                    kind="digest",
                    to_email=follow.email,
                    subject=f"New for {follow.label}: {len(items)}"[:300],
                    body=digest_body(settings, follow, items, base, secret_key),
                )
                queued += 1
            follow.last_digest_at, follow.since = now, now
            session.commit()
    return queued


def digest_body(settings: Settings, follow: Follow, items: list[Item], base: str, secret_key: str) -> str:
    lines = [f"New in {settings.site_name} for {follow.label}:", ""]
    for item in items[:MAX_ITEMS]:
        lines += [f"- {item.title}" + (f" ({item.detail})" if item.detail else ""), f"  {base}{item.url}", ""]
    if len(items) > MAX_ITEMS:
        lines += [f"and {len(items) - MAX_ITEMS} more.", ""]
    lines += [
        "You get this because you confirmed you wanted it. To stop, open this link (one click):",
        f"{base}/follow/unsubscribe/{token(follow, 'unsubscribe', secret_key)}",
    ]
    return "\n".join(lines) + "\n"


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
