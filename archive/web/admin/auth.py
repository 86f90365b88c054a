"""Signing in and out, accounts and the audit log on the site (archive.accounts.users behind it).

The Flask cookie holds only a random token; the server keeps its SHA-256 (UserSession), so logging out, a
password change or disabling an account ends a session for good, even for a copied cookie. Every /admin view is
guarded by `role_required`, which marks the view with its roles so a test can check that none is forgotten.
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from archive.accounts import users as accounts
from archive.db.models import ROLES, AuditEvent, User
from archive.errors import InvalidInput
from archive.web.context import (
    TOKEN_KEY,
    address,
    current_user,
    db,
    needs_totp_setup,
    role_required,
    settings,
    signed_in,
)

auth = Blueprint("auth", __name__)

AUDIT_PAGE = 50


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never //other.example or a scheme, so the login form is no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    # No control or separator characters (`/admin%0AX`): a Location header cannot hold them (it was a 500).
    if any(unicodedata.category(character) in ("Cc", "Cf", "Zl", "Zp") for character in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


@auth.before_app_request
def totp_setup_first() -> ResponseReturnValue | None:
    """With admin_totp_required, an admin without TOTP may do nothing under /admin until it is set up."""
    if not request.path.startswith("/admin"):
        return None
    user = current_user()
    if user is not None and needs_totp_setup(user):
        return redirect(url_for("auth.account", _anchor="totp"))
    return None


# --- signing in and out -----------------------------------------------------------------------------------------


@auth.get("/login")
def login() -> ResponseReturnValue:
    return render_template("admin/login.html", next=_safe_next(request.args.get("next")) or "", email="", error=None)


@auth.post("/login")
def login_post() -> ResponseReturnValue:
    form = request.form
    email = form.get("email", "")
    target = _safe_next(form.get("next"))
    try:
        user = accounts.sign_in(
            db(), settings(), email, form.get("password", ""), code=form.get("code", ""), address=address()
        )
    except (accounts.LoginFailed, accounts.LoginThrottled, accounts.CodeNeeded) as error:
        db().commit()  # the failure is what throttling counts
        status = 429 if isinstance(error, accounts.LoginThrottled) else 401
        needed = isinstance(error, accounts.CodeNeeded)
        page = render_template("admin/login.html", next=target or "", email=email, error=str(error), code_needed=needed)
        return page, status
    # A new session for a new sign-in: nothing from before (a planted cookie, the old CSRF token) carries over.
    session.clear()
    session[TOKEN_KEY] = accounts.start_session(db(), user, settings())
    db().commit()
    g.user = user
    if needs_totp_setup(user):
        return redirect(url_for("auth.account", _anchor="totp"), 303)
    return redirect(target or url_for("auth.dashboard"), 303)


@auth.post("/logout")
def logout() -> ResponseReturnValue:
    user = current_user()
    accounts.end_session(db(), session.get(TOKEN_KEY))
    if user is not None:
        accounts.record(db(), "logout", user=user, target=user.email, address=address())
    db().commit()
    session.clear()
    return redirect(url_for("pages.home"), 303)


# --- one's own account ------------------------------------------------------------------------------------------


def _account_page(user: User, status: int = 200, **context: Any) -> ResponseReturnValue:
    secret = context.pop("secret", None) or (None if user.totp_secret else accounts.new_totp_secret())
    return (
        render_template(
            "admin/account.html",
            user=user,
            secret=secret,
            uri=accounts.totp_uri(secret, user.email, settings().site_name) if secret else None,
            totp_required=needs_totp_setup(user),
            **context,
        ),
        status,
    )


@auth.get("/account")
@role_required(*ROLES)
def account() -> ResponseReturnValue:
    return _account_page(signed_in(), done=request.args.get("done"))


def _refused(user: User, error: Exception, field: str) -> ResponseReturnValue:
    """The account page with the reason; a wrong password is counted as a failed sign-in, as a guess would be."""
    db().rollback()
    if isinstance(error, accounts.WrongPassword):
        accounts.record(db(), "login-failed", target=user.email, address=address(), reason="current-password")
        db().commit()
    status = 429 if isinstance(error, accounts.LoginThrottled) else 400
    return _account_page(user, status, **{field: str(error)})


@auth.post("/account/password")
@role_required(*ROLES)
def change_password() -> ResponseReturnValue:
    user = signed_in()
    form = request.form
    try:
        if form.get("new", "") != form.get("confirm", ""):
            raise InvalidInput("confirm: the two new passwords differ")
        accounts.change_password(
            db(), settings(), user, form.get("current", ""), form.get("new", ""), address=address()
        )
    except (InvalidInput, accounts.LoginThrottled) as error:
        return _refused(user, error, "password_error")
    # Every session ended with the change; this browser carries on in a fresh one.
    session.clear()
    session[TOKEN_KEY] = accounts.start_session(db(), user, settings())
    db().commit()
    return redirect(url_for("auth.account", done="password"), 303)


@auth.post("/account/totp")
@role_required(*ROLES)
def enable_totp() -> ResponseReturnValue:
    user = signed_in()
    secret = request.form.get("secret", "")
    try:
        accounts.enable_totp(db(), user, secret, request.form.get("code", ""), address=address())
    except InvalidInput as error:
        db().rollback()
        return _account_page(user, 400, totp_error=str(error), secret=secret if user.totp_secret is None else None)
    db().commit()
    return redirect(url_for("auth.account", done="totp-on"), 303)


@auth.post("/account/totp/disable")
@role_required(*ROLES)
def disable_totp() -> ResponseReturnValue:
    user = signed_in()
    try:
        accounts.disable_totp(db(), settings(), user, request.form.get("password", ""), address=address())
    except (InvalidInput, accounts.LoginThrottled) as error:
        return _refused(user, error, "totp_error")
    db().commit()
    return redirect(url_for("auth.account", done="totp-off"), 303)


# --- administration ---------------------------------------------------------------------------------------------


@auth.get("/admin")
@role_required("curator", "organizer")
def dashboard() -> ResponseReturnValue:
    """The pages under /admin this user's role may open, found from the routes themselves."""
    role = signed_in().role
    links = []
    for rule in current_app.url_map.iter_rules():
        view = current_app.view_functions[rule.endpoint]
        roles = getattr(view, "roles", None)
        if (
            rule.rule.startswith("/admin/")
            and "GET" in (rule.methods or ())
            and not rule.arguments
            and roles is not None
            and (role == "admin" or role in roles)
        ):
            title = (view.__doc__ or rule.rule).strip().splitlines()[0].split(":")[0]
            links.append({"url": rule.rule, "title": title})
    return render_template("admin/dashboard.html", links=sorted(links, key=lambda link: link["url"]))


def _users_page(status: int = 200, **context: Any) -> ResponseReturnValue:
    users = db().scalars(select(User).order_by(User.disabled_at.is_not(None), User.email)).all()
    return render_template("admin/users.html", users=users, roles=ROLES, **context), status


@auth.get("/admin/users")
@role_required("admin")
def users() -> ResponseReturnValue:
    """Accounts: add one, change a role, disable one."""
    return _users_page(done=request.args.get("done"))


@auth.post("/admin/users")
@role_required("admin")
def add_user() -> ResponseReturnValue:
    form = request.form
    me = signed_in()
    try:
        made = accounts.create_user(db(), form.get("email", ""), form.get("password", ""), form.get("role", ""))
        accounts.record(db(), "user-add", user=me, target=made.email, address=address(), role=made.role)
        db().commit()
    except InvalidInput as error:
        db().rollback()
        values = {"email": form.get("email", ""), "role": form.get("role", "")}
        return _users_page(400, error=str(error), values=values)
    return redirect(url_for("auth.users", done=f"added {made.email}"), 303)


def _user(user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None:
        raise InvalidInput(f"no account with id {user_id}")
    return user


@auth.post("/admin/users/<int:user_id>/role")
@role_required("admin")
def set_role(user_id: int) -> ResponseReturnValue:
    me = signed_in()
    try:
        user = _user(user_id)
        accounts.set_role(db(), user, request.form.get("role", ""), actor=me.email, by=me, address=address())
        db().commit()
    except InvalidInput as error:
        db().rollback()
        return _users_page(400, error=str(error))
    return redirect(url_for("auth.users", done=f"{user.email} is now {user.role}"), 303)


@auth.post("/admin/users/<int:user_id>/disable")
@role_required("admin")
def disable_user(user_id: int) -> ResponseReturnValue:
    me = signed_in()
    try:
        user = _user(user_id)
        accounts.disable_user(db(), user, actor=me.email, by=me, address=address())
        db().commit()
    except InvalidInput as error:
        db().rollback()
        return _users_page(400, error=str(error))
    return redirect(url_for("auth.users", done=f"disabled {user.email}"), 303)


@auth.get("/admin/audit")
@role_required("admin")
def audit() -> ResponseReturnValue:
    """The audit log: sign-ins, account changes, exports."""
    action = request.args.get("action", "").strip()
    actor = request.args.get("actor", "").strip().lower()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        raise InvalidInput("page: give a whole number") from None
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    total = db().scalar(select(func.count()).select_from(query.subquery())) or 0
    events = (
        db()
        .scalars(
            query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(AUDIT_PAGE).offset((page - 1) * AUDIT_PAGE)
        )
        .all()
    )
    actions = db().scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    return render_template(
        "admin/audit.html",
        events=events,
        actions=actions,
        action=action,
        actor=actor,
        page=page,
        pages=max(1, -(-total // AUDIT_PAGE)),
        total=total,
    )
