"""Signing a Flask test client in as a new user, through the real login form (for any test that needs an account)."""

from __future__ import annotations

import re
from typing import Any

from archive.accounts.users import create_user
from archive.db.models import User

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: Any, path: str = "/login") -> str:
    """The CSRF token of the first form on a page (the session's token: any form of the site takes it)."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def add_user(sessions: Any, role: str, email: str | None = None, password: str = PASSWORD) -> User:
    """A user straight into the database (detached: read its attributes, do not lazy-load relations)."""
    with sessions() as session, session.begin():
        user = create_user(session, email or f"{role}@example.org", password, role)
    return user


def log_in(client: Any, email: str, password: str = PASSWORD, code: str = "", next: str = "") -> Any:
    """POST /login as a browser would (the form's CSRF token first); returns the response."""
    data = {"email": email, "password": password, "code": code, "next": next, "csrf_token": csrf_token(client)}
    return client.post("/login", data=data)


def sign_in(client: Any, sessions: Any, role: str, email: str | None = None, password: str = PASSWORD) -> User:
    """Creates a user with `role` and signs `client` in as them through the login form."""
    user = add_user(sessions, role, email, password)
    response = log_in(client, user.email, password)
    assert response.status_code == 303, response.get_data(as_text=True)
    return user
