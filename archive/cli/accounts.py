"""`testimony user …`: accounts from the command line (archive.accounts.users), each change audited with actor "cli"."""

from __future__ import annotations

import sys
from typing import Any

import click

from archive.db.models import ROLES


@click.group()
def user() -> None:
    """Accounts: admins, curators and organizers."""


def _sessions(ctx: click.Context) -> Any:
    # Imported here: archive.cli imports this module to register the group.
    from archive.cli.context import sessions_for, settings_from

    return sessions_for(ctx, settings_from(ctx))


def _read_password(prompt: str) -> str:
    """Hidden and asked twice on a terminal; one line from stdin otherwise (scripts, `echo … |`)."""
    if sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@user.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the account may do.")
@click.pass_context
def add(ctx: click.Context, email: str, role: str) -> None:
    """Add an account (the password is read from the terminal, or one line from stdin)."""
    from archive.accounts.users import create_user, record

    sessions = _sessions(ctx)
    password = _read_password("Password")
    with sessions() as session, session.begin():
        made = create_user(session, email, password, role)
        record(session, "user-add", actor="cli", target=made.email, role=role)
        click.echo(f"added {made.email} ({role})")


@user.command("list")
@click.pass_context
def list_users(ctx: click.Context) -> None:
    """Every account: email, role, two-step sign-in, disabled."""
    from sqlalchemy import select

    from archive.db.models import User

    with _sessions(ctx)() as session:
        for account in session.scalars(select(User).order_by(User.email)):
            flags = ["totp" if account.totp_secret else "", "disabled" if account.disabled_at else ""]
            click.echo("\t".join([account.email, account.role, *(flag for flag in flags if flag)]))


@user.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_context
def role(ctx: click.Context, email: str, role: str) -> None:
    """Change an account's role (the last admin cannot be demoted)."""
    from archive.accounts.users import get_user, set_role

    with _sessions(ctx)() as session, session.begin():
        account = get_user(session, email)
        set_role(session, account, role, actor="cli")
        click.echo(f"{account.email} is now {role}")


@user.command("disable")
@click.argument("email")
@click.pass_context
def disable(ctx: click.Context, email: str) -> None:
    """Disable an account: it cannot sign in, and its sessions end at once."""
    from archive.accounts.users import disable_user, get_user

    with _sessions(ctx)() as session, session.begin():
        account = get_user(session, email)
        disable_user(session, account, actor="cli")
        click.echo(f"disabled {account.email}")


@user.command("password")
@click.argument("email")
@click.pass_context
def password(ctx: click.Context, email: str) -> None:
    """Reset an account's password (read as for `user add`); its sessions end."""
    from archive.accounts.users import get_user, record, set_password

    sessions = _sessions(ctx)
    with sessions() as session, session.begin():
        account = get_user(session, email)
        set_password(session, account, _read_password("New password"))
        record(session, "password-change", actor="cli", target=account.email, reset=True)
        click.echo(f"password reset for {account.email}; their sessions have ended")
