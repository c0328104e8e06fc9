"""Operator commands on `app.cli` (`./tessera admin grant|revoke|list`): who is an admin."""

from __future__ import annotations

from typing import NoReturn

import click
import sqlalchemy as sa
from flask import Flask

from auth_service.accounts import find_by_email
from auth_service.models import Account, db
from tessera_shared.commands import ServiceGroup
from tessera_shared.outbox import emit
from tessera_shared.platform import platform
from tessera_shared.transactions import unit_of_work

admin = ServiceGroup("admin", service_package="auth_service",
                     help="Grant, revoke and list the admin role (admins read the whole "
                          "action log).")


def init_app(app: Flask) -> None:
    app.cli.add_command(admin)


def fail(message: str) -> NoReturn:
    """Say what went wrong on stdout and end with status 1 (a usage mistake ends with 2)."""
    click.echo(message)
    raise click.exceptions.Exit(1)


def set_role(email: str, role: str) -> Account:
    """Change an account's role, effective at once in every live session of it."""
    with unit_of_work(db.session):
        account = find_by_email(db.session, email)
        if account is None:
            fail(f"No account has the email {email!r}.")
        if account.role != role:
            account.role = role
            emit(db.session, "auth.role_changed", {"user_id": account.id, "role": role})
        platform().sessions.set_role(account.id, role)
    return account


@admin.command("grant")
@click.argument("email")
def grant(email: str) -> None:
    """Make the account with EMAIL an admin."""
    click.echo(f"{set_role(email, 'admin').email} is now an admin.")


@admin.command("revoke")
@click.argument("email")
def revoke(email: str) -> None:
    """Make the account with EMAIL a user again."""
    click.echo(f"{set_role(email, 'user').email} is now a user.")


@admin.command("list")
def list_admins() -> None:
    """Print the admins' email addresses."""
    for account in db.session.scalars(sa.select(Account).where(Account.role == "admin")):
        click.echo(account.email)
