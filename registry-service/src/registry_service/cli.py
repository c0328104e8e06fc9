"""Operator commands on `app.cli` (`./tessera registry ...`): Omikrons, Iotas and
subscriptions."""

from __future__ import annotations

from typing import NoReturn

import click
import sqlalchemy as sa
from flask import Flask

from registry_service import keyholders, omikrons
from registry_service.extensions import profiles, registrations
from registry_service.models import Iota, Keyholder, Omikron, db
from tessera_shared.clock import utcnow
from tessera_shared.commands import ServiceGroup
from tessera_shared.errors import DomainError
from tessera_shared.transactions import unit_of_work

registry = ServiceGroup("registry", service_package="registry_service",
                        help="Register, list and remove Omikrons and Iotas; set subscriptions.")
KINDS: dict[str, type[Omikron] | type[Iota]] = {"omikron": Omikron, "iota": Iota}


def init_app(app: Flask) -> None:
    app.cli.add_command(registry)


def fail(message: str) -> NoReturn:
    """Say what went wrong on stdout and end with status 1 (a usage mistake ends with 2)."""
    click.echo(message)
    raise click.exceptions.Exit(1)


def _kind_group(kind: str) -> click.Group:
    group = ServiceGroup(kind, help=f"Register, list or remove {kind.capitalize()}s.")

    def add(public_key: str, location: str | None = None) -> None:
        """Register one by its X448 public key (base64 of its 56 bytes)."""
        number = registrations().next_number()
        try:
            with unit_of_work(db.session):
                if kind == "iota":
                    omikrons.add_iota(db.session, number, public_key)
                    message = f"Iota {number} registered."
                else:
                    _omikron, rest_id = omikrons.add_omikron(db.session, number, public_key,
                                                             location)
                    message = (f"Omikron {number} registered.\n"
                               f"Its REST id (the Authorization header; shown only now): "
                               f"{rest_id}")
        except DomainError as error:
            fail(str(error))
        click.echo(message)

    add = click.argument("public_key")(add)
    if kind == "omikron":
        add = click.option("--location", help="where it runs (shown in lists)")(add)
    group.command("add")(add)

    @group.command("list")
    def list_them() -> None:
        """Print number, public key (and location) of each."""
        model = KINDS[kind]
        rows = db.session.scalars(sa.select(model).order_by(model.number)).all()
        lines = [f"{row.number}  {row.public_key}  {getattr(row, 'location', None) or ''}"
                 .rstrip() for row in rows]
        click.echo("\n".join(lines) or f"No {kind}s are registered.")

    @group.command("remove")
    @click.argument("number", type=int)
    def remove(number: int) -> None:
        """Remove the one with NUMBER."""
        with unit_of_work(db.session):
            removed = omikrons.remove(db.session, KINDS[kind], number)
        if not removed:
            fail(f"No {kind} has the number {number}.")
        click.echo(f"{kind.capitalize()} {number} removed.")

    return group


for _kind in KINDS:
    registry.add_command(_kind_group(_kind))


@registry.command("subscription", context_settings={"ignore_unknown_options": True})
@click.argument("user")
@click.argument("level", type=click.Choice(["0", "1"]))
@click.argument("days", type=int)
def subscription(user: str, level: str, days: int) -> None:
    """Set USER's (username or user id) subscription LEVEL (0 free, 1 premium) for DAYS from
    today (0 or less ends it)."""
    try:
        profile = profiles().get(user) if _looks_like_id(user) else None
        profile = profile or profiles().find(user)
        holder = profile and db.session.get(Keyholder, profile.id)
        if holder is None:
            fail(f"No registry user is called {user!r}.")
        with unit_of_work(db.session):
            keyholders.set_subscription(db.session, holder, int(level), days, utcnow().date())
    except DomainError as error:
        fail(str(error))
    click.echo(f"{profile.handle}: level {level} for {days} days." if days > 0
               else f"{profile.handle}: no subscription.")


def _looks_like_id(value: str) -> bool:
    return len(value) == 36 and value.count("-") == 4
