"""Accounts without the web: argon2id hashes, the password policy, roles, sessions, TOTP codes, the audit log and
`testimony user …`; on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import pty
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from archive.accounts import users as accounts
from archive.accounts.users import create_user, record
from archive.cli.main import main
from archive.db.models import AuditEvent, RateLimit, User, UserSession
from archive.errors import InvalidInput
from tests.factories.accounts import PASSWORD


@pytest.mark.real_password_cost
def test_passwords_are_kept_as_argon2id_hashes_and_verify(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        user = create_user(session, "  Ana@Example.ORG ", PASSWORD, "curator")
        assert user.id is not None and user.email == "ana@example.org"
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert accounts.verify_password(session, user, PASSWORD)
        assert not accounts.verify_password(session, user, PASSWORD + "!")
    with sessions() as session:
        assert session.scalar(select(User.email)) == "ana@example.org"


@pytest.mark.real_password_cost
def test_a_hash_made_with_older_parameters_is_renewed_at_the_next_verify(sessions) -> None:  # type: ignore[no-untyped-def]
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with sessions() as session, session.begin():
        user = create_user(session, "ana@example.org", PASSWORD, "curator")
        user.password_hash = old
        assert accounts.verify_password(session, user, PASSWORD)
        assert user.password_hash != old and not accounts.hasher.check_needs_rehash(user.password_hash)
        assert accounts.verify_password(session, user, PASSWORD)


@pytest.mark.parametrize(
    ("email", "password", "role", "message"),
    [
        ("ana@example.org", "short pass", "curator", "password: use at least 12 characters (this one has 10)"),
        ("ana@example.org", "x" * 20, "curator", "password: it is one character repeated"),
        ("longname@example.org", "LongName@Example.org", "curator", "password: it must not be the email address"),
        ("not an email", PASSWORD, "curator", "email: 'not an email' is not an email address"),
        ("", PASSWORD, "curator", "email: give an email address"),
        ("ana@example.org", PASSWORD, "wizard", "role: 'wizard' is not one of: admin, curator, organizer"),
    ],
)
def test_bad_input_is_refused_naming_the_field(sessions, email, password, role, message) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, pytest.raises(InvalidInput) as error:
        create_user(session, email, password, role)
    assert message in str(error.value)
    with sessions() as session:
        assert session.scalar(select(User.id)) is None


def test_an_email_is_taken_once_whatever_its_case(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        create_user(session, "ana@example.org", PASSWORD, "curator")
    with sessions() as session, pytest.raises(InvalidInput, match="an account for ana@example.org already exists"):
        create_user(session, "ANA@example.org", PASSWORD, "admin")


def test_record_adds_an_event_in_the_callers_transaction(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        user = create_user(session, "ana@example.org", PASSWORD, "organizer")
        event = record(session, "campaign-export", user=user, target="bus-fares", address="198.51.100.4", rows=12)
        anonymous = record(session, "login-failed", target="x" * 400)
    assert (event.actor, event.user_id, event.detail) == ("ana@example.org", user.id, {"rows": 12})
    assert anonymous.actor == "" and len(anonymous.target) == 300
    with sessions() as session:
        stored = session.scalar(select(AuditEvent).where(AuditEvent.action == "campaign-export"))
        assert (stored.target, stored.address, stored.detail) == ("bus-fares", "198.51.100.4", {"rows": 12})
    with sessions() as session:  # a rolled-back transaction leaves no event behind
        record(session, "logout", actor="someone")
        session.rollback()
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "logout")) is None


def test_sessions_store_only_a_digest_expire_and_end_with_a_disabled_account(settings, sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        user = create_user(session, "ana@example.org", PASSWORD, "curator")
        create_user(session, "boss@example.org", PASSWORD, "admin")
        token = accounts.start_session(session, user, settings)
        other = accounts.start_session(session, user, settings)
    with sessions() as session:
        assert accounts.session_for(session, token).user.email == "ana@example.org"
        assert accounts.session_for(session, "forged") is None and accounts.session_for(session, None) is None
        assert token not in {row.token_sha256 for row in session.scalars(select(UserSession))}
    with sessions() as session, session.begin():
        session.execute(update(UserSession).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    with sessions() as session:
        assert accounts.session_for(session, token) is None and accounts.session_for(session, other) is None
    with sessions() as session, session.begin():
        fresh = accounts.start_session(session, session.scalar(select(User).where(User.role == "curator")), settings)
    with sessions() as session, session.begin():
        ana = accounts.get_user(session, "ana@example.org")
        accounts.disable_user(session, ana, actor="cli")
    with sessions() as session:
        assert accounts.session_for(session, fresh) is None
        assert session.scalar(select(UserSession.id).where(UserSession.user_id == ana.id)) is None


def test_totp_codes_allow_one_step_of_drift_and_are_accepted_once(settings, sessions) -> None:  # type: ignore[no-untyped-def]
    secret = accounts.new_totp_secret()
    totp = pyotp.TOTP(secret)
    moment = dt.datetime(2026, 5, 1, 12, 0, 10, tzinfo=dt.UTC)
    for drift in (-30, 0, 30):
        code = totp.at(moment + dt.timedelta(seconds=drift))
        assert accounts.check_code(secret, code, at=moment) == totp.timecode(moment + dt.timedelta(seconds=drift))
    assert accounts.check_code(secret, totp.at(moment + dt.timedelta(seconds=90)), at=moment) is None
    assert accounts.check_code(secret, "12 34", at=moment) is None
    uri = accounts.totp_uri(secret, "ana@example.org", "Testimony Archive")
    assert uri.startswith("otpauth://totp/Testimony%20Archive:ana%40example.org?") and f"secret={secret}" in uri
    with sessions() as session, session.begin():
        user = create_user(session, "ana@example.org", PASSWORD, "curator")
        with pytest.raises(InvalidInput, match="code: that code is not right"):
            accounts.enable_totp(session, user, secret, "000000" if totp.now() != "000000" else "111111")
        spent = totp.now()
        accounts.enable_totp(session, user, secret, spent)
        assert user.totp_secret == secret
    # The code that turned it on cannot also sign in: it was spent.
    with sessions() as session, session.begin(), pytest.raises(accounts.LoginFailed):
        accounts.sign_in(session, settings, "ana@example.org", PASSWORD, code=spent)
    with sessions() as session, session.begin(), pytest.raises(accounts.CodeNeeded):
        accounts.sign_in(session, settings, "ana@example.org", PASSWORD)


@pytest.mark.both_databases  # row locks: PostgreSQL waits, SQLite serialises
def test_two_sign_ins_racing_with_one_code_let_one_in(settings, sessions) -> None:  # type: ignore[no-untyped-def]
    """The step of a code is claimed by a conditional UPDATE: on PostgreSQL the second transaction waits for the
    first's row lock and then finds the step taken; SQLite serialises the writers."""
    import threading

    secret = accounts.new_totp_secret()
    with sessions() as session, session.begin():
        create_user(session, "ana@example.org", PASSWORD, "curator").totp_secret = secret
    code = pyotp.TOTP(secret).now()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def sign_in() -> None:
        with sessions() as session:
            barrier.wait()
            try:
                with session.begin():
                    accounts.sign_in(session, settings, "ana@example.org", PASSWORD, code=code)
                outcomes.append("in")
            except accounts.LoginFailed:
                outcomes.append("refused")

    threads = [threading.Thread(target=sign_in) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["in", "refused"]


def test_the_last_admin_stays_an_admin(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        boss = create_user(session, "boss@example.org", PASSWORD, "admin")
        with pytest.raises(InvalidInput, match="last admin"):
            accounts.set_role(session, boss, "curator", actor="cli")
        with pytest.raises(InvalidInput, match="last admin"):
            accounts.disable_user(session, boss, actor="cli")
        deputy = create_user(session, "deputy@example.org", PASSWORD, "admin")
        accounts.set_role(session, boss, "organizer", actor="cli")
        with pytest.raises(InvalidInput, match="last admin"):
            accounts.disable_user(session, deputy, actor="cli")
    assert boss.role == "organizer"


# --- testimony user … -------------------------------------------------------------------------------------------


def cli_events(sessions) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(e.actor, e.action, e.target) for e in rows]


def test_user_add_reads_the_password_from_stdin_and_is_audited(runner, sessions) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["user", "add", "Ana@Example.org", "--role", "curator"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "added ana@example.org (curator)"
    with sessions() as session:
        user = session.scalar(select(User))
        assert user.role == "curator" and accounts.verify_password(session, user, PASSWORD)
    assert cli_events(sessions) == [("cli", "user-add", "ana@example.org")]
    again = runner.invoke(main, ["user", "add", "ana@example.org", "--role", "admin"], input=PASSWORD + "\n")
    assert again.exit_code == 1 and "already exists" in again.stderr
    weak = runner.invoke(main, ["user", "add", "bo@example.org", "--role", "admin"], input="short\n")
    assert weak.exit_code == 1 and "testimony: error: password: use at least 12 characters" in weak.stderr
    guessable = runner.invoke(main, ["user", "add", "bo@example.org", "--role", "admin"], input="password1234\n")
    assert guessable.exit_code == 1 and len(guessable.stderr.strip().splitlines()) == 1
    assert guessable.stderr.startswith("testimony: error: password: too easy to guess. This is a very common password")
    bad_role = runner.invoke(main, ["user", "add", "bo@example.org", "--role", "wizard"], input=PASSWORD + "\n")
    assert bad_role.exit_code == 2 and "wizard" in bad_role.stderr
    assert len(cli_events(sessions)) == 1


def test_user_list_role_disable_and_password_reset(runner, settings, sessions) -> None:  # type: ignore[no-untyped-def]
    for email, role in (("boss@example.org", "admin"), ("ana@example.org", "curator")):
        assert runner.invoke(main, ["user", "add", email, "--role", role], input=PASSWORD + "\n").exit_code == 0
    with sessions() as session, session.begin():
        token = accounts.start_session(session, accounts.get_user(session, "ana@example.org"), settings)
    listed = runner.invoke(main, ["user", "list"])
    assert listed.stdout.splitlines() == ["ana@example.org\tcurator", "boss@example.org\tadmin"]

    assert (
        runner.invoke(main, ["user", "role", "ana@example.org", "organizer"]).stdout
        == "ana@example.org is now organizer\n"
    )
    last = runner.invoke(main, ["user", "role", "boss@example.org", "curator"])
    assert last.exit_code == 1 and "last admin" in last.stderr
    missing = runner.invoke(main, ["user", "role", "nobody@example.org", "curator"])
    assert missing.exit_code == 1 and "no account with email 'nobody@example.org'" in missing.stderr

    reset = runner.invoke(main, ["user", "password", "ana@example.org"], input="a new long password\n")
    assert reset.exit_code == 0 and "their sessions have ended" in reset.stdout
    with sessions() as session:
        assert accounts.session_for(session, token) is None
        assert accounts.verify_password(session, accounts.get_user(session, "ana@example.org"), "a new long password")

    assert runner.invoke(main, ["user", "disable", "ana@example.org"]).exit_code == 0
    assert "ana@example.org\torganizer\tdisabled" in runner.invoke(main, ["user", "list"]).stdout
    assert cli_events(sessions)[2:] == [
        ("cli", "role-change", "ana@example.org"),
        ("cli", "password-change", "ana@example.org"),
        ("cli", "user-disable", "ana@example.org"),
    ]


def test_a_login_throttle_counts_failures_in_the_window_only(settings, sessions) -> None:  # type: ignore[no-untyped-def]
    strict = dataclasses.replace(settings, login_max_failures=2, login_lockout_minutes=5)
    with sessions() as session, session.begin():
        create_user(session, "ana@example.org", PASSWORD, "curator")
    for _ in range(2):
        with sessions() as session, session.begin(), pytest.raises(accounts.LoginFailed):
            accounts.sign_in(session, strict, "ana@example.org", "not the password", address="192.0.2.1")
    with sessions() as session, session.begin(), pytest.raises(accounts.LoginThrottled, match="5 minutes"):
        accounts.sign_in(session, strict, "ana@example.org", PASSWORD, address="192.0.2.1")
    with sessions() as session, session.begin():  # from another address: the owner signs in
        assert accounts.sign_in(session, strict, "ana@example.org", PASSWORD, address="192.0.2.3").email
    with sessions() as session, session.begin():  # the window passes
        session.execute(update(RateLimit).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    with sessions() as session, session.begin():
        assert accounts.sign_in(session, strict, "ana@example.org", PASSWORD, address="192.0.2.1").email


@pytest.mark.parametrize("password", ["password1234", "Password1234!", "qwertyuiop123", "ana@example.org1"])
def test_a_password_easy_to_guess_is_refused_with_advice(sessions, password) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin(), pytest.raises(InvalidInput) as error:
        create_user(session, "ana@example.org", password, "curator")
    assert str(error.value).startswith("password: too easy to guess. ")
    with sessions() as session, session.begin():
        user = create_user(session, "ana@example.org", PASSWORD, "curator")
        with pytest.raises(InvalidInput, match="^password: too easy to guess"):
            accounts.set_password(session, user, password)


def test_audit_actions_are_kebab_case(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        for bad in ("Login", "campaign_export", "", "export-"):
            with pytest.raises(ValueError, match="kebab-case"):
                record(session, bad)
        assert record(session, "campaign-export").action == "campaign-export"


def test_user_add_on_a_terminal_asks_twice_without_echo(settings, sessions) -> None:  # type: ignore[no-untyped-def]
    """The real command on a pseudo-terminal, as a person at a keyboard runs it."""
    command = Path(sys.executable).parent / "testimony"
    env = {**os.environ, "TESTIMONY_HOME": str(settings.home), "TESTIMONY_DATABASE_URL": settings.database_url}
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(command), "user", "add", "Ana@example.org", "--role", "organizer"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    seen = b""

    def until(text: bytes) -> None:
        nonlocal seen
        while text not in seen:
            chunk = os.read(leader, 1024)
            assert chunk, seen
            seen += chunk

    until(b"Password: ")
    os.write(leader, PASSWORD.encode() + b"\n")
    until(b"Repeat for confirmation: ")
    os.write(leader, PASSWORD.encode() + b"\n")
    until(b"added ana@example.org (organizer)")
    assert process.wait(timeout=60) == 0
    os.close(leader)
    assert PASSWORD.encode() not in seen  # never echoed
    with sessions() as session:
        assert accounts.verify_password(session, accounts.get_user(session, "ana@example.org"), PASSWORD)
