"""The review's attacks on accounts, reproduced against the app: concurrent password guesses, TOTP guesses with a
known password, weak passwords, and HSTS; on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading

import pyotp
import pytest
from sqlalchemy import select

from archive.db.models import AuditEvent, User
from tests.factories.accounts import PASSWORD, add_user, csrf_token, log_in, sign_in

GUESSES = 40
LIMIT = 5


def concurrent_guesses(app, email: str, passwords: list[str], address: str = "203.0.113.9") -> list[int]:  # type: ignore[no-untyped-def]
    """Each password POSTed to /login by its own client and thread, all released at once; the statuses."""
    clients = []
    for _ in passwords:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        clients.append((client, csrf_token(client)))
    start = threading.Barrier(len(passwords))
    statuses: list[int] = []

    def guess(client, token: str, password: str) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        data = {"email": email, "password": password, "code": "", "next": "", "csrf_token": token}
        statuses.append(client.post("/login", data=data).status_code)

    threads = [
        threading.Thread(target=guess, args=(client, token, password))
        for (client, token), password in zip(clients, passwords, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return statuses


def failures(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return len(session.scalars(select(AuditEvent.id).where(AuditEvent.action == "login-failed")).all())


@pytest.mark.both_databases  # concurrent writers: each dialect's locking
def test_concurrent_guesses_are_counted_exactly(settings, sessions, app_for) -> None:  # type: ignore[no-untyped-def]
    """40 wrong passwords at once, limit 5: the count read before the failure was written let 12 through."""
    app = app_for(dataclasses.replace(settings, login_max_failures=LIMIT))
    add_user(sessions, "admin", "ana@example.org")

    statuses = concurrent_guesses(app, "ana@example.org", [f"wrong guess number {n}" for n in range(GUESSES)])

    assert sorted(statuses) == [401] * LIMIT + [429] * (GUESSES - LIMIT)  # exactly the limit was checked
    assert failures(sessions) == LIMIT
    assert log_in(app.test_client(), "ana@example.org").status_code == 303  # the owner, from their own address


def test_totp_guesses_are_throttled_like_passwords(settings, sessions, app_for) -> None:  # type: ignore[no-untyped-def]
    """With the password known, the six-digit code is all that is left to guess: it is counted the same way."""
    app = app_for(dataclasses.replace(settings, login_max_failures=LIMIT))
    secret = pyotp.random_base32()
    add_user(sessions, "admin", "ana@example.org")
    with sessions() as session, session.begin():
        session.scalar(select(User)).totp_secret = secret
    right = pyotp.TOTP(secret).now()
    wrong = [f"{(int(right) + 1 + n) % 1_000_000:06d}" for n in range(GUESSES)]

    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    statuses = [log_in(attacker, "ana@example.org", PASSWORD, code=code).status_code for code in wrong]
    assert statuses == [401] * LIMIT + [429] * (GUESSES - LIMIT)
    assert log_in(attacker, "ana@example.org", PASSWORD, code=right).status_code == 429  # even the right one
    with sessions() as session:
        reasons = session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "login-failed")).all()
    assert reasons == [{"reason": "code"}] * LIMIT
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert log_in(owner, "ana@example.org", PASSWORD, code=right).status_code == 303


def test_passwords_easy_to_guess_are_refused_on_every_form(settings, sessions, app_for) -> None:  # type: ignore[no-untyped-def]
    client = app_for(settings).test_client()
    sign_in(client, sessions, "admin")
    token = csrf_token(client, "/account")
    added = client.post(
        "/admin/users",
        data={"email": "bo@example.org", "password": "password1234", "role": "curator", "csrf_token": token},
    )
    assert added.status_code == 400 and "password: too easy to guess. This is a very common password" in added.get_data(
        True
    )
    changed = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "Password1234!", "confirm": "Password1234!", "csrf_token": token},
    )
    assert changed.status_code == 400 and "password: too easy to guess." in changed.get_data(True)
    with sessions() as session:
        assert [user.email for user in session.scalars(select(User))] == ["admin@example.org"]
        assert session.scalars(select(AuditEvent.id).where(AuditEvent.action == "login-failed")).all() == []


@pytest.mark.parametrize(("public_url", "hsts"), [("https://archive.example", True), ("http://archive.example", False)])
def test_hsts_when_the_public_address_is_https(settings, sessions, app_for, public_url: str, hsts: bool) -> None:  # type: ignore[no-untyped-def]
    client = app_for(dataclasses.replace(settings, public_url=public_url)).test_client()
    for path in ("/", "/login", "/api/meetings"):
        header = client.get(path).headers.get("Strict-Transport-Security")
        assert header == ("max-age=31536000" if hsts else None)
