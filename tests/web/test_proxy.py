"""Behind a reverse proxy: the client's address comes from X-Forwarded-For only when proxies are configured."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from archive.db.models import AuditEvent
from tests.factories.accounts import add_user, log_in


@pytest.mark.parametrize(("hops", "seen"), [(0, "127.0.0.1"), (1, "203.0.113.5")])
def test_the_audit_log_sees_the_client_behind_a_trusted_proxy(settings, sessions, app_for, hops, seen) -> None:  # type: ignore[no-untyped-def]
    client = app_for(dataclasses.replace(settings, proxy_hops=hops)).test_client()
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"  # the proxy
    user = add_user(sessions, "curator")
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.5"
    assert log_in(client, user.email, "not the password at all").status_code == 401
    with sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "login-failed")).one()
    assert event.address == seen
