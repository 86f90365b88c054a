"""Accounts: users and roles, passwords (argon2id), server-side sessions, login throttling, TOTP, the audit log.

Plain functions over a Session, shared by the site (archive.web.auth) and the CLI (archive.cli.accounts); none
commits — the caller's transaction holds the change and its audit event together.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import re
import secrets
from functools import cache
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from archive.config import Settings
from archive.db import limits
from archive.db.models import ROLES, AuditEvent, User, UserSession
from archive.db.session import rows_changed
from archive.errors import ArchiveError, InvalidInput

MIN_PASSWORD = 12
MIN_STRENGTH = 3  # zxcvbn's score (0-4): 3 is "safely unguessable" against throttled online guessing
STRENGTH_CHARACTERS = 72  # zxcvbn refuses longer input; the first 72 characters must be strong on their own
# Good enough to catch typos, not a full RFC 5322 parser: one @, no spaces, a dot in the domain.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLIDE_EVERY = dt.timedelta(minutes=5)  # a session's expiry moves on use, but not with a write per request
TOTP_STEP = 30
ACTION = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")  # audit actions: login, login-failed, campaign-export, …

hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class LoginFailed(ArchiveError):
    """Wrong email, password or code, or a disabled account — one message for all, so none is revealed."""


class LoginThrottled(ArchiveError):
    """Too many failed sign-ins for this account from this address, or from this address, within the window."""


class WrongPassword(InvalidInput):
    """The current password, asked again on the account page, is wrong: counted like a failed sign-in."""


class CodeNeeded(ArchiveError):
    """The password was right and the account has TOTP: the sign-in needs the current code as well."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(moment: dt.datetime) -> dt.datetime:
    """SQLite keeps no time zone; what is written is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# --- users ------------------------------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not email:
        raise InvalidInput("email: give an email address")
    if len(email) > 320 or not EMAIL.match(email):
        raise InvalidInput(f"email: {email!r} is not an email address")
    return email


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"role: {role!r} is not one of: {', '.join(ROLES)}")
    return role


def check_password(password: str, email: str) -> None:
    """The policy: long enough, not one repeated character, not the email itself, and hard to guess by zxcvbn's
    estimate (which knows common passwords, words, names, dates, keyboard runs and the email)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password: use at least {MIN_PASSWORD} characters (this one has {len(password)})")
    if len(set(password)) == 1:
        raise InvalidInput("password: it is one character repeated; choose another")
    if password.strip().lower() == email.lower():
        raise InvalidInput("password: it must not be the email address")
    estimate = zxcvbn(password[:STRENGTH_CHARACTERS], user_inputs=[email, email.partition("@")[0], "testimony"])
    if estimate["score"] < MIN_STRENGTH:
        feedback = estimate["feedback"]
        advice = " ".join([feedback["warning"], *feedback["suggestions"]]).strip()
        advice = advice or "Add another word or two. Uncommon words are better."
        raise InvalidInput(f"password: too easy to guess. {advice}")


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == (email or "").strip().lower()))


def get_user(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise InvalidInput(f"no account with email {email.strip().lower()!r}")
    return user


def create_user(session: Session, email: str, password: str, role: str) -> User:
    """A new account (flushed, so it has an id); bad input raises InvalidInput naming the field."""
    email = normalise_email(email)
    check_role(role)
    check_password(password, email)
    if find_user(session, email) is not None:
        raise InvalidInput(f"email: an account for {email} already exists")
    user = User(email=email, password_hash=hasher.hash(password), role=role, password_changed_at=now())
    session.add(user)
    session.flush()
    return user


def verify_password(session: Session, user: User, password: str) -> bool:
    """Checks the password; rehashes it in place when the hasher's parameters have changed since it was set."""
    try:
        hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


@cache
def _dummy_hash() -> str:
    return hasher.hash(secrets.token_urlsafe(16))


def burn_a_verify(password: str) -> None:
    """The cost of one argon2 check, so an unknown email answers no faster than a known one."""
    with contextlib.suppress(VerificationError):
        hasher.verify(_dummy_hash(), password)


def set_password(session: Session, user: User, password: str) -> None:
    """A new password (the policy applies); every session of the user ends."""
    check_password(password, user.email)
    user.password_hash = hasher.hash(password)
    user.password_changed_at = now()
    end_sessions(session, user)


def change_password(
    session: Session, settings: Settings, user: User, current: str, new: str, *, address: str | None = None
) -> None:
    """The user's own change: the current password is required (and checked like a sign-in, so a stolen session
    is no way round the throttle); all their sessions end (start a new one after)."""
    check_password(new, user.email)  # first: a weak new password is no guess at the current one
    confirm_password(session, settings, user, current, field="current password", address=address)
    set_password(session, user, new)
    record(session, "password-change", user=user, target=user.email, address=address)


def admins_left(session: Session, besides: User) -> int:
    """Active admins other than `besides`."""
    return (
        session.scalar(
            select(func.count(User.id)).where(User.role == "admin", User.disabled_at.is_(None), User.id != besides.id)
        )
        or 0
    )


def set_role(
    session: Session, user: User, role: str, *, actor: str, by: User | None = None, address: str | None = None
) -> None:
    check_role(role)
    if user.role == "admin" and role != "admin" and not user.disabled_at and admins_left(session, user) == 0:
        raise InvalidInput(f"role: {user.email} is the last admin; make another admin first")
    before, user.role = user.role, role
    record(session, "role-change", user=by, actor=actor, target=user.email, address=address, before=before, after=role)


def disable_user(
    session: Session, user: User, *, actor: str, by: User | None = None, address: str | None = None
) -> None:
    """The account can no longer sign in and its sessions end; its audit history stays."""
    if user.disabled_at is not None:
        raise InvalidInput(f"{user.email} is already disabled")
    if user.role == "admin" and admins_left(session, user) == 0:
        raise InvalidInput(f"{user.email} is the last admin; make another admin first")
    user.disabled_at = now()
    end_sessions(session, user)
    record(session, "user-disable", user=by, actor=actor, target=user.email, address=address)


# --- the audit log ----------------------------------------------------------------------------------------------


def record(
    session: Session,
    action: str,
    *,
    user: User | None = None,
    actor: str = "",
    target: str = "",
    address: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """An audit event in the caller's transaction; `actor` defaults to the user's email."""
    if not ACTION.match(action):
        raise ValueError(f"audit action {action!r}: use kebab-case, e.g. 'campaign-export'")
    event = AuditEvent(
        at=now(),
        user_id=user.id if user is not None else None,
        actor=actor or (user.email if user is not None else ""),
        action=action,
        target=target[:300],
        address=address[:64] if address else None,
        detail=detail,
    )
    session.add(event)
    return event


# --- sessions ---------------------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User, settings: Settings) -> str:
    """A new random token for one browser; only its SHA-256 is stored."""
    token = secrets.token_urlsafe(32)
    moment = now()
    session.add(
        UserSession(
            token_sha256=_digest(token),
            user_id=user.id,
            created_at=moment,
            last_seen_at=moment,
            expires_at=moment + dt.timedelta(hours=settings.session_hours),
        )
    )
    return token


def session_for(session: Session, token: str | None) -> UserSession | None:
    """The live session of a token, if any: not expired, its user not disabled."""
    if not token or not isinstance(token, str):
        return None
    row = session.scalar(select(UserSession).where(UserSession.token_sha256 == _digest(token)))
    if row is None or aware(row.expires_at) <= now() or row.user.disabled_at is not None:
        return None
    return row


def needs_slide(row: UserSession) -> bool:
    return now() - aware(row.last_seen_at) >= SLIDE_EVERY


def slide(session: Session, token: str, settings: Settings) -> None:
    """Moves the expiry on, as the session is in use."""
    moment = now()
    row = session.scalar(select(UserSession).where(UserSession.token_sha256 == _digest(token)))
    if row is not None:
        row.last_seen_at = moment
        row.expires_at = moment + dt.timedelta(hours=settings.session_hours)


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(UserSession).where(UserSession.token_sha256 == _digest(token)))


def end_sessions(session: Session, user: User) -> None:
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))


# --- signing in -------------------------------------------------------------------------------------------------

# Throttling. Every attempt is counted before anything is checked (archive.db.limits: one atomic take per counter, in
# a transaction of its own committed at once, so concurrent guesses each see the others), and a right password
# gives its count back. Two counters, both keyed by the client's address:
#   - this account from this address: login_max_failures in the window;
#   - this address, whatever the accounts: ADDRESS_SHARE times as many (one office behind one address).
# No counter is per account alone: failures from an attacker's addresses would then lock the owner out wherever
# they sign in from, and anyone could lock the admins out. Guessing from many addresses is slowed by the per-
# address counters, the argon2 cost and the password strength check; admins should turn on TOTP
# (TESTIMONY_ADMIN_TOTP_REQUIRED), whose code guesses are counted by the same attempts.
ADDRESS_SHARE = 4


def _counters(settings: Settings, email: str, address: str | None) -> list[tuple[str, int]]:
    """(key, limit) of each counter an attempt takes from."""
    counters = [(limits.key_of("sign-in", email, address or ""), settings.login_max_failures)]
    if address:
        counters.append((limits.key_of("sign-in-from", address), settings.login_max_failures * ADDRESS_SHARE))
    return counters


def count_attempt(session: Session, settings: Settings, email: str, address: str | None) -> None:
    """Count a sign-in attempt before anything is checked, committed at once in a transaction of its own (on the
    session's engine; the caller must not be holding a write of its own yet); LoginThrottled when a counter is
    full, and then nothing is counted."""
    window = dt.timedelta(minutes=settings.login_lockout_minutes)
    moment = now()
    with Session(session.get_bind()) as own, own.begin():
        for key, limit in _counters(settings, email, address):
            if not limits.take(own, key, limit, window, moment):
                raise LoginThrottled(
                    f"Too many failed sign-ins from this address: try again in {settings.login_lockout_minutes}"
                    " minutes."
                )


def attempt_passed(session: Session, settings: Settings, email: str, address: str | None) -> None:
    """The password was right: its attempt does not count (given back in the caller's transaction)."""
    moment = now()
    for key, _ in _counters(settings, email, address):
        limits.give_back(session, key, moment)


def confirm_password(
    session: Session, settings: Settings, user: User, password: str, *, field: str, address: str | None
) -> None:
    """The user's password asked again (a password change, turning TOTP off): counted like a sign-in;
    WrongPassword naming `field` when it is wrong."""
    count_attempt(session, settings, user.email, address)
    if not verify_password(session, user, password):
        raise WrongPassword(f"{field}: that is not your current password")
    attempt_passed(session, settings, user.email, address)


def sign_in(
    session: Session,
    settings: Settings,
    email: str,
    password: str,
    *,
    code: str = "",
    address: str | None = None,
) -> User:
    """The user whose credentials these are, with the login audited; else LoginThrottled, CodeNeeded or LoginFailed.

    The attempt is counted first, committed on its own (see count_attempt); a failure is also recorded in the
    audit log, which the caller commits. A throttled attempt checks nothing, so guessing gains nothing while it
    lasts; a wrong TOTP code is a failed attempt like a wrong password.
    """
    email = (email or "").strip().lower()[:300]  # as the audit log keeps it
    count_attempt(session, settings, email, address)
    user = find_user(session, email)
    if user is None:
        burn_a_verify(password)
        ok = False
    else:
        ok = verify_password(session, user, password) and user.disabled_at is None
    reason = "password"
    counter = None
    if ok and user is not None and user.totp_secret:
        code = (code or "").replace(" ", "")
        if not code:
            attempt_passed(session, settings, email, address)
            raise CodeNeeded("Enter the 6-digit code from your authenticator app.")
        counter = totp_counter(session, user, code)
        ok = counter is not None
        reason = "code"
    if not ok or user is None:
        record(session, "login-failed", actor="", target=email, address=address, reason=reason)
        raise LoginFailed("That email, password or code is not right.")
    attempt_passed(session, settings, email, address)
    limits.clear(session, _counters(settings, email, address)[0][0])  # the owner is in: their slips are forgiven
    detail: dict[str, Any] = {"totp_counter": counter} if counter else {}
    record(session, "login", user=user, target=email, address=address, **detail)
    return user


# --- TOTP -------------------------------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def check_code(secret: str, code: str, *, at: dt.datetime | None = None) -> int | None:
    """The time step a code belongs to (this one or either neighbour, for clock drift), or None."""
    code = (code or "").replace(" ", "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    moment = at or now()
    for drift in (-1, 0, 1):
        when = moment + dt.timedelta(seconds=drift * TOTP_STEP)
        if hmac.compare_digest(totp.at(when), code):
            return totp.timecode(when)
    return None


def totp_counter(session: Session, user: User, code: str, secret: str | None = None) -> int | None:
    """The step of a right code newer than any accepted before for this user; None for a wrong or replayed code.

    Checking and claiming the step is one conditional UPDATE, so two sign-ins racing with one code cannot both
    pass (the second waits for the first's row lock, then finds the step taken)."""
    counter = check_code(secret or user.totp_secret or "", code)
    if counter is None:
        return None
    claimed = rows_changed(
        session.execute(
            update(User)
            .where(User.id == user.id, or_(User.totp_last_counter.is_(None), User.totp_last_counter < counter))
            .values(totp_last_counter=counter)
        )
    )
    return counter if claimed == 1 else None


def enable_totp(session: Session, user: User, secret: str, code: str, *, address: str | None = None) -> None:
    """Turns TOTP on once the user proves their app has the secret (a right current code)."""
    if not re.fullmatch(r"[A-Z2-7]{16,64}", secret or ""):
        raise InvalidInput("secret: not a base32 TOTP secret; reload the page and start again")
    counter = totp_counter(session, user, code, secret)
    if counter is None:
        raise InvalidInput("code: that code is not right; check the time on your device and try the next one")
    user.totp_secret = secret
    record(session, "totp-enable", user=user, target=user.email, address=address, totp_counter=counter)


def disable_totp(
    session: Session, settings: Settings, user: User, password: str, *, address: str | None = None
) -> None:
    if not user.totp_secret:
        raise InvalidInput("two-step sign-in is not on for this account")
    confirm_password(session, settings, user, password, field="password", address=address)
    user.totp_secret = None
    record(session, "totp-disable", user=user, target=user.email, address=address)
