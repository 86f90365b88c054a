"""Signing in on the site: sessions kept on the server, throttling, TOTP, roles on every /admin route, the audit
log and the account pages; on SQLite and PostgreSQL, through the real login form."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import statistics
import time
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from sqlalchemy import select, update
from werkzeug.routing import IntegerConverter

from archive.accounts.users import ADDRESS_SHARE, record
from archive.db.models import ROLES, AuditEvent, Excerpt, RateLimit, User, UserSession
from archive.web.context import role_required
from tests.factories.accounts import PASSWORD, add_user, csrf_token, log_in, sign_in
from tests.factories.meetings import Line, add_meeting
from tests.factories.server import served_in_thread


def events(sessions, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def session_rows(sessions, email: str) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        user = session.scalar(select(User).where(User.email == email))
        return len(session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all())


def cookie(client) -> str:  # type: ignore[no-untyped-def]
    return client.get_cookie("session").value


def signed_in_as(client) -> str | None:  # type: ignore[no-untyped-def]
    """The email the page header shows, or None when the client is anonymous."""
    match = re.search(r'<nav class="account"[^>]*>\s*<a href="/account">([^<]+)</a>', client.get("/").get_data(True))
    return match.group(1) if match else None


def post(client, path: str, **data: str):  # type: ignore[no-untyped-def]
    """A form POST carrying the session's CSRF token, as a page of the site would send it."""
    return client.post(path, data={"csrf_token": csrf_token(client, "/login"), **data})


# --- signing in -------------------------------------------------------------------------------------------------


def test_login_signs_in_redirects_to_admin_and_is_audited(client, sessions) -> None:  # type: ignore[no-untyped-def]
    add_user(sessions, "curator", "Ana@Example.org")
    assert signed_in_as(client) is None and "Sign in" in client.get("/").get_data(True)
    response = log_in(client, "  ANA@example.ORG ")
    assert response.status_code == 303 and response.headers["Location"] == "/admin"
    assert signed_in_as(client) == "ana@example.org"
    (login,) = events(sessions, "login")
    assert (login.actor, login.target, login.address) == ("ana@example.org", "ana@example.org", "127.0.0.1")
    assert session_rows(sessions, "ana@example.org") == 1


def test_a_failed_login_says_the_same_for_an_unknown_email_and_a_wrong_password(client, sessions) -> None:  # type: ignore[no-untyped-def]
    add_user(sessions, "curator", "ana@example.org")
    wrong = log_in(client, "ana@example.org", "not the password at all")
    unknown = log_in(client, "nobody@example.org", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    message = "That email, password or code is not right."
    assert message in wrong.get_data(True) and message in unknown.get_data(True)
    assert "nobody@example.org" not in unknown.get_data(True).split('role="alert"')[1].split("</p>")[0]
    assert signed_in_as(client) is None
    assert [(e.actor, e.target) for e in events(sessions, "login-failed")] == [
        ("", "ana@example.org"),
        ("", "nobody@example.org"),
    ]


@pytest.mark.real_password_cost
def test_an_unknown_email_costs_an_argon2_check_like_a_known_one(settings, sessions, app_for) -> None:  # type: ignore[no-untyped-def]
    client = app_for(dataclasses.replace(settings, login_max_failures=100)).test_client()
    add_user(sessions, "curator", "ana@example.org")
    token = csrf_token(client)

    def timed(email: str) -> float:
        start = time.perf_counter()
        response = client.post("/login", data={"email": email, "password": "wrong password!", "csrf_token": token})
        assert response.status_code == 401
        return time.perf_counter() - start

    timed("warm@example.org")
    known = statistics.median(timed("ana@example.org") for _ in range(5))
    unknown = statistics.median(timed(f"nobody{i}@example.org") for i in range(5))
    # An argon2id check takes tens of milliseconds; a lookup that finds nothing, about one.
    assert unknown > 0.5 * known, (known, unknown)


def test_the_next_page_is_kept_and_other_sites_are_refused(client, sessions) -> None:  # type: ignore[no-untyped-def]
    add_user(sessions, "admin")
    response = client.get("/admin/audit?action=login")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login" and parse_qs(location.query)["next"] == ["/admin/audit?action=login"]
    assert 'name="next" value="/admin/audit?action=login"' in client.get(response.headers["Location"]).get_data(True)
    assert log_in(client, "admin@example.org", next="/admin/audit?action=login").headers["Location"] == (
        "/admin/audit?action=login"
    )
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        other = client.application.test_client()
        assert log_in(other, "admin@example.org", next=evil).headers["Location"] == "/admin"


def test_a_malformed_next_page_is_a_clean_redirect(client, sessions) -> None:  # type: ignore[no-untyped-def]
    """Issue 17: `next=/admin%0AX` gave a 500 after a successful login (a newline in the Location header)."""
    add_user(sessions, "admin")
    assert 'name="next" value=""' in client.get("/login?next=/admin%0AX").get_data(True)
    for malformed in ("/admin\nX", "/admin\r\nSet-Cookie: x=1", "/admin\x00", "/admin\u2028X", "/admin\x7f"):
        other = client.application.test_client()
        response = log_in(other, "admin@example.org", next=malformed)
        assert response.status_code == 303 and response.headers["Location"] == "/admin", malformed


# --- sessions ---------------------------------------------------------------------------------------------------


def test_login_issues_a_new_session_and_csrf_token_no_fixation(client, sessions) -> None:  # type: ignore[no-untyped-def]
    add_user(sessions, "organizer")
    before_csrf = csrf_token(client)
    with client.session_transaction() as planted:
        planted["account"] = "a-token-an-attacker-planted"
    log_in(client, "organizer@example.org")
    with client.session_transaction() as cookie_session:
        token = cookie_session["account"]
        assert token != "a-token-an-attacker-planted" and "csrf_token" not in cookie_session
    assert csrf_token(client) != before_csrf
    with sessions() as session:
        (row,) = session.scalars(select(UserSession)).all()
        assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()  # only the digest is stored
        assert token not in row.token_sha256


def test_logout_ends_the_session_on_the_server_and_a_replayed_cookie_is_refused(client, sessions) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, sessions, "curator")
    old = cookie(client)
    assert client.get("/admin").status_code == 200
    response = post(client, "/logout")
    assert response.status_code == 303 and signed_in_as(client) is None
    assert session_rows(sessions, "curator@example.org") == 0
    assert [e.actor for e in events(sessions, "logout")] == ["curator@example.org"]
    client.set_cookie("session", old)  # the cookie as it was before logout, still validly signed
    assert client.get("/admin").status_code == 302


def test_logout_needs_the_csrf_token(client, sessions) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, sessions, "curator")
    assert client.post("/logout").status_code == 400
    assert signed_in_as(client) == "curator@example.org"


def test_the_cookie_is_httponly_samesite_lax_and_secure_over_https(settings, sessions, app_for) -> None:  # type: ignore[no-untyped-def]
    add_user(sessions, "curator")
    plain = app_for(settings).test_client()
    header = log_in(plain, "curator@example.org").headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    public = app_for(dataclasses.replace(settings, public_url="https://archive.example.org")).test_client()
    header = log_in(public, "curator@example.org").headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" in header


def test_an_expired_session_is_refused_and_a_used_one_slides(client, sessions) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, sessions, "curator")
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    with sessions() as session, session.begin():
        session.execute(update(UserSession).values(last_seen_at=long_ago, expires_at=long_ago + dt.timedelta(hours=1)))
    assert client.get("/admin").status_code == 200
    with sessions() as session:
        row = session.scalar(select(UserSession))
        expires = row.expires_at.replace(tzinfo=dt.UTC) if row.expires_at.tzinfo is None else row.expires_at
        assert expires > dt.datetime.now(dt.UTC) + dt.timedelta(hours=11)  # settings.session_hours = 12
    with sessions() as session, session.begin():
        session.execute(update(UserSession).values(expires_at=long_ago))
    assert client.get("/admin").status_code == 302


# --- throttling -------------------------------------------------------------------------------------------------


@pytest.fixture
def strict(settings, sessions, app_for):  # type: ignore[no-untyped-def]
    """An app that locks out at 3 failures within 10 minutes."""
    return app_for(dataclasses.replace(settings, login_max_failures=3, login_lockout_minutes=10))


def from_address(app, address: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def age_failures(sessions) -> None:  # type: ignore[no-untyped-def]
    """As if the window had passed: every throttle counter has run out."""
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with sessions() as session, session.begin():
        session.execute(update(RateLimit).values(expires_at=past))


def test_an_attackers_failures_lock_out_their_address_never_the_owner(strict, sessions) -> None:  # type: ignore[no-untyped-def]
    """Five wrong passwords used to lock an account from everywhere, so anyone could lock the admins out. Failures
    count per account and address: the attacker's address is refused, the owner's is not."""
    add_user(sessions, "admin", "ana@example.org")
    attacker = from_address(strict, "203.0.113.66")
    for _ in range(3):
        assert log_in(attacker, "ana@example.org", "wrong password!").status_code == 401
    refused = log_in(attacker, "ana@example.org")  # even the right password: guessing gains nothing now
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.get_data(True) and "10 minutes" in refused.get_data(True)
    assert len(events(sessions, "login-failed")) == 3  # a refused attempt adds nothing (and checks nothing)
    assert log_in(from_address(strict, "198.51.100.7"), "ana@example.org").status_code == 303  # the owner
    age_failures(sessions)
    assert log_in(attacker, "ana@example.org").status_code == 303


def test_failures_from_one_address_lock_it_out_for_every_email(strict, sessions) -> None:  # type: ignore[no-untyped-def]
    add_user(sessions, "curator", "ana@example.org")
    client = from_address(strict, "192.0.2.7")
    for n in range(3 * ADDRESS_SHARE):  # a few tries at each of many accounts
        assert log_in(client, f"guess{n // 2}@example.org", "wrong password!").status_code == 401
    assert log_in(client, "ana@example.org").status_code == 429
    assert log_in(from_address(strict, "192.0.2.8"), "ana@example.org").status_code == 303  # another address
    age_failures(sessions)
    assert log_in(from_address(strict, "192.0.2.7"), "ana@example.org").status_code == 303


def test_a_successful_login_resets_the_count_for_the_account_from_that_address(strict, sessions) -> None:  # type: ignore[no-untyped-def]
    add_user(sessions, "curator", "ana@example.org")
    here = from_address(strict, "10.1.0.1")
    for _ in range(2):
        assert log_in(here, "ana@example.org", "wrong password!").status_code == 401
    assert log_in(here, "ana@example.org").status_code == 303
    for _ in range(2):
        assert log_in(here, "ana@example.org", "wrong password!").status_code == 401
    assert log_in(here, "ana@example.org").status_code == 303  # four failures, but a success between them


def test_a_disabled_account_cannot_sign_in(client, sessions) -> None:  # type: ignore[no-untyped-def]
    add_user(sessions, "curator")
    with sessions() as session, session.begin():
        session.execute(update(User).values(disabled_at=dt.datetime.now(dt.UTC)))
    response = log_in(client, "curator@example.org")
    assert response.status_code == 401 and "That email, password or code is not right." in response.get_data(True)


# --- the account page: password and TOTP ------------------------------------------------------------------------


def test_a_password_change_ends_every_other_session_but_keeps_this_one(app, sessions) -> None:  # type: ignore[no-untyped-def]
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, sessions, "organizer")
    log_in(elsewhere, "organizer@example.org")
    old = cookie(here)
    assert session_rows(sessions, "organizer@example.org") == 2
    bad = post(here, "/account/password", current="not my password", new="a brand new password", confirm="x")
    assert bad.status_code == 400 and "the two new passwords differ" in bad.get_data(True)
    bad = post(
        here, "/account/password", current="wrong current!", new="another new password", confirm="another new password"
    )
    assert bad.status_code == 400 and "current password" in bad.get_data(True)
    short = post(here, "/account/password", current=PASSWORD, new="too short", confirm="too short")
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(True)
    response = post(
        here, "/account/password", current=PASSWORD, new="a brand new password", confirm="a brand new password"
    )
    assert response.status_code == 303
    assert signed_in_as(here) == "organizer@example.org"
    assert signed_in_as(elsewhere) is None and elsewhere.get("/admin").status_code == 302
    assert session_rows(sessions, "organizer@example.org") == 1
    replay = app.test_client()
    replay.set_cookie("session", old)
    assert replay.get("/admin").status_code == 302
    assert [e.actor for e in events(sessions, "password-change")] == ["organizer@example.org"]
    assert log_in(app.test_client(), "organizer@example.org", "a brand new password").status_code == 303


def totp_secret(client) -> str:  # type: ignore[no-untyped-def]
    html = client.get("/account").get_data(True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', html).group(1)
    uri = re.search(r'<code id="totp-uri">([^<]+)</code>', html).group(1)
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    return secret


def enable(client, secret: str) -> None:  # type: ignore[no-untyped-def]
    response = post(client, "/account/totp", secret=secret, code=pyotp.TOTP(secret).now())
    assert response.status_code == 303, response.get_data(True)


def test_totp_is_enabled_with_a_right_code_and_then_asked_at_every_login(app, sessions) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, sessions, "curator")
    secret = totp_secret(client)
    wrong = post(client, "/account/totp", secret=secret, code=f"{(int(pyotp.TOTP(secret).now()) + 1) % 10**6:06d}")
    assert wrong.status_code == 400 and "code" in wrong.get_data(True)
    enable(client, secret)
    assert "On: signing in asks for the 6-digit code" in client.get("/account").get_data(True)
    assert len(events(sessions, "totp-enable")) == 1

    fresh = app.test_client()
    without = log_in(fresh, "curator@example.org")
    assert without.status_code == 401 and "6-digit code" in without.get_data(True) and signed_in_as(fresh) is None
    bad = log_in(fresh, "curator@example.org", code="12345x")
    assert bad.status_code == 401 and signed_in_as(fresh) is None
    assert events(sessions, "login-failed")[-1].detail == {"reason": "code"}
    # The code used to enable it was spent; the next step's code (accepted for clock drift) signs in, once.
    upcoming = pyotp.TOTP(secret).at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))
    assert log_in(fresh, "curator@example.org", code=upcoming).status_code == 303
    replayed = log_in(app.test_client(), "curator@example.org", code=upcoming)
    assert replayed.status_code == 401


def test_totp_is_disabled_only_with_the_password(client, sessions) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, sessions, "curator")
    enable(client, totp_secret(client))
    assert post(client, "/account/totp/disable", password="not my password").status_code == 400
    assert post(client, "/account/totp/disable", password=PASSWORD).status_code == 303
    with sessions() as session:
        assert session.scalar(select(User.totp_secret)) is None
    assert len(events(sessions, "totp-disable")) == 1


def test_admins_must_set_up_totp_before_any_admin_page_when_required(settings, sessions, app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for(dataclasses.replace(settings, admin_totp_required=True))
    admin = app.test_client()
    add_user(sessions, "admin")
    response = log_in(admin, "admin@example.org")
    assert response.status_code == 303 and response.headers["Location"] == "/account#totp"
    for path in ("/admin", "/admin/users", "/admin/audit"):
        blocked = admin.get(path)
        assert blocked.status_code == 302 and blocked.headers["Location"] == "/account#totp"
    assert post(admin, "/admin/users", email="x@example.org", password=PASSWORD, role="curator").status_code == 302
    assert "must use two-step sign-in" in admin.get("/account").get_data(True)
    enable(admin, totp_secret(admin))
    assert admin.get("/admin/users").status_code == 200
    curator = app.test_client()
    sign_in(curator, sessions, "curator")  # the rule is for admins
    assert curator.get("/admin").status_code == 200


# --- roles: every /admin route ----------------------------------------------------------------------------------


def admin_rules(app):  # type: ignore[no-untyped-def]
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")]


def url(app, rule) -> str:  # type: ignore[no-untyped-def]
    """The rule's path with made-up arguments (1 for numbers): the guard must refuse before any lookup."""
    values = {
        name: 1 if isinstance(rule._converters.get(name), IntegerConverter) else "no-such-thing"
        for name in rule.arguments
    }
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def test_every_admin_route_declares_its_roles_and_enforces_them(app, sessions) -> None:  # type: ignore[no-untyped-def]
    rules = admin_rules(app)
    assert {"/admin", "/admin/users", "/admin/audit"} <= {rule.rule for rule in rules}
    clients = {role: app.test_client() for role in ROLES}
    for role, client in clients.items():
        sign_in(client, sessions, role)
    anonymous = app.test_client()
    anonymous_csrf = csrf_token(anonymous)
    checked = 0
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "roles", None) is not None, f"{rule.rule} has no role_required"
        allowed = {*view.roles, "admin"}
        path = url(app, rule)
        for method in sorted({"GET", "POST"} & set(rule.methods)):
            response = anonymous.open(path, method=method, data={"csrf_token": anonymous_csrf})
            assert response.status_code == 302, (method, rule.rule)
            assert urlsplit(response.headers["Location"]).path == "/login"
            for role in set(ROLES) - allowed:
                client = clients[role]
                response = client.open(path, method=method, data={"csrf_token": csrf_token(client, "/login")})
                assert response.status_code == 403, (method, rule.rule, role)
            if method == "GET" and not rule.arguments:
                for role in allowed:
                    status = clients[role].get(path).status_code
                    assert status != 403 and status < 500, (rule.rule, role, status)
            checked += 1
    assert checked >= 6


def test_the_dashboard_links_only_what_the_role_may_open(client, sessions, app) -> None:  # type: ignore[no-untyped-def]
    curator = app.test_client()
    sign_in(curator, sessions, "curator")
    html = curator.get("/admin").get_data(True)
    assert 'href="/admin/users"' not in html and 'href="/admin/audit"' not in html
    sign_in(client, sessions, "admin")
    html = client.get("/admin").get_data(True)
    assert 'href="/admin/users"' in html and 'href="/admin/audit"' in html


def test_role_required_answers_the_api_in_json(settings, sessions, app_for) -> None:  # type: ignore[no-untyped-def]
    app = app_for(settings)
    app.add_url_rule("/api/probe", "probe", role_required("curator")(lambda: {"ok": True}))
    client = app.test_client()
    response = client.get("/api/probe")
    assert response.status_code == 401 and response.json == {"error": "sign in to use this"}
    sign_in(client, sessions, "organizer")
    assert client.get("/api/probe").status_code == 403
    curator = app.test_client()
    sign_in(curator, sessions, "curator")
    assert curator.get("/api/probe").json == {"ok": True}


# --- the users page ---------------------------------------------------------------------------------------------


def test_admins_add_users_change_roles_and_disable_them_each_audited(app, sessions) -> None:  # type: ignore[no-untyped-def]
    admin = app.test_client()
    sign_in(admin, sessions, "admin")
    added = post(admin, "/admin/users", email="New@Example.org", password="a fine long password", role="curator")
    assert added.status_code == 303
    dupe = post(admin, "/admin/users", email="new@example.org", password="a fine long password", role="curator")
    assert dupe.status_code == 400 and "already exists" in dupe.get_data(True)
    weak = post(admin, "/admin/users", email="weak@example.org", password="aaaaaaaaaaaaaa", role="curator")
    assert weak.status_code == 400 and "one character repeated" in weak.get_data(True)
    assert 'value="weak@example.org"' in weak.get_data(True)
    with sessions() as session:
        new = session.scalar(select(User).where(User.email == "new@example.org"))
    assert "new@example.org" in admin.get("/admin/users").get_data(True)
    assert post(admin, f"/admin/users/{new.id}/role", role="wizard").status_code == 400
    assert post(admin, f"/admin/users/{new.id}/role", role="organizer").status_code == 303
    theirs = app.test_client()
    log_in(theirs, "new@example.org", "a fine long password")
    assert theirs.get("/admin").status_code == 200
    assert post(admin, f"/admin/users/{new.id}/disable").status_code == 303
    assert theirs.get("/admin").status_code == 302  # their session ended with the account
    assert post(admin, "/admin/users/9999/disable").status_code == 400
    actions = [(e.action, e.actor, e.target) for e in events(sessions, "user-add") + events(sessions, "role-change")]
    assert actions == [
        ("user-add", "admin@example.org", "new@example.org"),
        ("role-change", "admin@example.org", "new@example.org"),
    ]
    assert events(sessions, "role-change")[0].detail == {"before": "curator", "after": "organizer"}
    assert [e.target for e in events(sessions, "user-disable")] == ["new@example.org"]


def test_the_last_admin_can_neither_demote_nor_disable_themselves(client, sessions) -> None:  # type: ignore[no-untyped-def]
    me = sign_in(client, sessions, "admin")
    demote = post(client, f"/admin/users/{me.id}/role", role="curator")
    assert demote.status_code == 400 and "last admin" in demote.get_data(True)
    disable = post(client, f"/admin/users/{me.id}/disable")
    assert disable.status_code == 400 and "last admin" in disable.get_data(True)
    other = add_user(sessions, "admin", "second@example.org")
    assert post(client, f"/admin/users/{other.id}/role", role="curator").status_code == 303
    assert client.get("/admin/users").status_code == 200


def test_forms_without_the_csrf_token_are_refused(client, sessions) -> None:  # type: ignore[no-untyped-def]
    add_user(sessions, "admin")
    assert client.post("/login", data={"email": "admin@example.org", "password": PASSWORD}).status_code == 400
    sign_in(client, sessions, "admin", "boss@example.org")
    for path in ("/admin/users", "/account/password", "/account/totp", "/account/totp/disable", "/logout"):
        response = client.post(path, data={"email": "x@example.org", "password": PASSWORD, "role": "admin"})
        assert response.status_code == 400 and "reload the page" in response.get_data(True), path
    with sessions() as session:
        assert session.scalar(select(User).where(User.email == "x@example.org")) is None


# --- the audit log ----------------------------------------------------------------------------------------------


def test_the_audit_page_lists_events_newest_first_filters_and_paginates(client, sessions) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, sessions, "admin")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with sessions() as session, session.begin():
        for n in range(60):
            event = record(session, "campaign-export", actor="org@example.org", target=f"campaign-{n}", rows=n)
            event.at = start + dt.timedelta(minutes=n)
        record(session, "user-add", actor="cli", target="<b>x@example.org</b>", address="203.0.113.9", role="curator")
    html = client.get("/admin/audit").get_data(True)
    assert "62 events" in html  # 60 exports, the CLI's user-add and the login
    rows = html.split("<tbody>")[1]
    assert rows.index(">user-add<") < rows.index(">login<") < rows.index("campaign-59") < rows.index("campaign-58")
    assert "&lt;b&gt;x@example.org&lt;/b&gt;" in rows and "203.0.113.9" in rows and "role: curator" in rows
    # 50 a page: the two of today, then the exports from 59 down to 12.
    assert "Page 1 of 2" in html and "campaign-12<" in rows and "campaign-11<" not in rows
    second = client.get("/admin/audit?page=2").get_data(True).split("<tbody>")[1]
    assert "campaign-11<" in second and "campaign-0<" in second and "campaign-12<" not in second
    only = client.get("/admin/audit?action=user-add").get_data(True)
    assert "1 event," in only and "campaign-" not in only.split("<tbody>")[1]
    by = client.get("/admin/audit?actor=ADMIN@example.org").get_data(True)
    assert "1 event," in by and ">login<" in by
    assert client.get("/admin/audit?page=x").status_code == 400


# --- excerpts for signed-in users -------------------------------------------------------------------------------


def test_a_signed_in_user_makes_an_excerpt_without_the_editor_token(client, sessions) -> None:  # type: ignore[no-untyped-def]
    add_meeting(
        sessions, "2024-02-07-comment", [Line("You're here illegally and you're worried?", 41.0, 45.0, "Dan", "member")]
    )
    assert 'id="excerpt-form"' not in client.get("/meetings/2024-02-07-comment").get_data(True)  # no token set
    sign_in(client, sessions, "organizer")
    html = client.get("/meetings/2024-02-07-comment").get_data(True)
    assert 'id="excerpt-form"' in html and 'name="token"' not in html
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    data = {"meeting": "2024-02-07-comment", "start": "41", "end": "44", "title": "Hot mic", "key": key}
    response = post(client, "/excerpts", **data)
    assert response.status_code == 303
    with sessions() as session:
        assert session.scalar(select(Excerpt.created_by)) == "organizer@example.org"


def test_guessing_the_password_on_the_account_page_is_throttled_like_signing_in(strict, sessions) -> None:  # type: ignore[no-untyped-def]
    client = strict.test_client()
    sign_in(client, sessions, "curator")
    enable(client, totp_secret(client))
    guesses = [
        post(
            client,
            "/account/password",
            current="guess number one",
            new="a brand new password",
            confirm="a brand new password",
        ),
        post(client, "/account/totp/disable", password="guess number two"),
        post(client, "/account/totp/disable", password="guess number three"),
    ]
    assert [response.status_code for response in guesses] == [400, 400, 400]
    right = post(
        client, "/account/password", current=PASSWORD, new="a brand new password", confirm="a brand new password"
    )
    assert right.status_code == 429 and "Too many failed sign-ins" in right.get_data(True)
    assert [e.detail for e in events(sessions, "login-failed")] == [{"reason": "current-password"}] * 3
    with sessions() as session:
        assert session.scalar(select(User.totp_secret)) is not None
    assert log_in(strict.test_client(), "curator@example.org", PASSWORD).status_code == 429


# --- in a real browser ------------------------------------------------------------------------------------------


def test_signing_in_and_out_in_chromium(settings, sessions, app_for, browser) -> None:  # type: ignore[no-untyped-def]
    """The forms as a browser sends them (CSP on, cookies as set): sign in, see the header, set up TOTP, sign out."""
    add_user(sessions, "organizer", "ana@example.org")
    errors: list[str] = []
    with served_in_thread(app_for(settings), threads=2) as base:
        context = browser.new_context()
        page = context.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(f"{base}/admin/audit")
        assert page.url.startswith(f"{base}/login?next=")
        page.fill("#login-email", "ana@example.org")
        page.fill("#login-password", "not the password!")
        page.click("button[type=submit]")
        assert page.locator("#login-error").inner_text() == "That email, password or code is not right."
        page.fill("#login-password", PASSWORD)
        page.click("button[type=submit]")
        # An organizer asked for an admin page: signed in, then refused there.
        assert page.locator("h1").inner_text() == "Something is wrong with the request"
        page.goto(f"{base}/admin")
        assert page.locator("nav.account a").first.inner_text() == "ana@example.org"
        cookie = next(c for c in page.context.cookies() if c["name"] == "session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        page.goto(f"{base}/account")
        secret = page.locator("#totp-secret").inner_text()
        page.fill("#totp-code", pyotp.TOTP(secret).now())
        page.click("text=Turn two-step sign-in on")
        assert "Two-step sign-in is on" in page.locator("p.notice").inner_text()
        page.click("nav.account button")
        assert page.url == f"{base}/" and page.locator("nav.account").count() == 0
        assert page.locator("footer a", has_text="Sign in").count() == 1
    # The refused pages (401, 403) and the absent favicon log their status; nothing else may (no CSP violation).
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []
    assert [e.action for e in events(sessions, "totp-enable")] == ["totp-enable"]
