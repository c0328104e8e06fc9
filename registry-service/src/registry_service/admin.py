"""Operating the registry (`./tessera registry ...`): Omikrons, Iotas and subscriptions.

    python -m registry_service.admin omikron add <public key> [--location TEXT]
    python -m registry_service.admin subscription <username | user id> <level> <days>
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import orm

from registry_service import keyholders, omikrons
from registry_service.models import Iota, Keyholder, Omikron
from registry_service.pending import Registrations
from registry_service.profiles import registry_profiles
from tessera_shared.clock import utcnow
from tessera_shared.config import Settings
from tessera_shared.db import database_url, engine_options
from tessera_shared.errors import DomainError
from tessera_shared.internal import InternalClient
from tessera_shared.redis import connect


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tessera registry")
    kinds = parser.add_subparsers(dest="kind", required=True)
    for kind in ("omikron", "iota"):
        actions = kinds.add_parser(kind, help=f"register, list or remove {kind}s")
        verbs = actions.add_subparsers(dest="verb", required=True)
        add = verbs.add_parser("add", help=f"register an {kind} by its X448 public key")
        add.add_argument("public_key", help="base64 of the 56-byte X448 public key")
        if kind == "omikron":
            add.add_argument("--location", help="where it runs (shown in lists)")
        verbs.add_parser("list")
        remove = verbs.add_parser("remove")
        remove.add_argument("number", type=int)
    subscription = kinds.add_parser("subscription", help="set a user's subscription")
    subscription.add_argument("user", help="username or user id")
    subscription.add_argument("level", type=int, choices=[0, 1], help="0 free, 1 premium")
    subscription.add_argument("days", type=int, help="days from today (0 ends it)")
    return parser


class Console:
    def __init__(self, settings: Settings, session: orm.Session) -> None:
        self.session = session
        self.registrations = Registrations(connect(settings.redis_url))
        self.profiles = registry_profiles(InternalClient("registry", settings.internal_secret,
                                                settings.service_urls))

    def add(self, args: argparse.Namespace) -> str:
        number = self.registrations.next_number()
        if args.kind == "iota":
            omikrons.add_iota(self.session, number, args.public_key)
            return f"Iota {number} registered."
        _omikron, rest_id = omikrons.add_omikron(self.session, number, args.public_key,
                                                 args.location)
        return (f"Omikron {number} registered.\n"
                f"Its REST id (the Authorization header; shown only now): {rest_id}")

    def list(self, args: argparse.Namespace) -> str:
        kind = Omikron if args.kind == "omikron" else Iota
        rows = self.session.scalars(sa.select(kind).order_by(kind.number)).all()
        lines = [f"{row.number}  {row.public_key}  {getattr(row, 'location', None) or ''}"
                 .rstrip() for row in rows]
        return "\n".join(lines) or f"No {args.kind}s are registered."

    def remove(self, args: argparse.Namespace) -> str:
        kind = Omikron if args.kind == "omikron" else Iota
        if not omikrons.remove(self.session, kind, args.number):
            raise LookupError(f"No {args.kind} has the number {args.number}.")
        return f"{args.kind.capitalize()} {args.number} removed."

    def subscription(self, args: argparse.Namespace) -> str:
        profile = self.profiles.get(args.user) if _looks_like_id(args.user) else None
        profile = profile or self.profiles.find(args.user)
        holder = profile and self.session.get(Keyholder, profile.id)
        if holder is None:
            raise LookupError(f"No registry user is called {args.user!r}.")
        keyholders.set_subscription(self.session, holder, args.level, args.days,
                                    utcnow().date())
        return (f"{profile.handle}: level {args.level} for {args.days} days."
                if args.days > 0 else f"{profile.handle}: no subscription.")


def _looks_like_id(value: str) -> bool:
    return len(value) == 36 and value.count("-") == 4


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env("registry")
    url = database_url(settings)
    engine = sa.create_engine(url, **engine_options(url))
    try:
        with orm.Session(engine) as session:
            console = Console(settings, session)
            action: Callable[[argparse.Namespace], str] = (
                console.subscription if args.kind == "subscription"
                else getattr(console, args.verb))
            try:
                message = action(args)
            except (LookupError, DomainError) as error:
                print(error)
                return 1
            session.commit()
            print(message)
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
