"""Granting and revoking the admin role (`./tessera admin grant|revoke|list`).

    python -m auth_service.admin grant <email>
"""

from __future__ import annotations

import sys

import sqlalchemy as sa
from sqlalchemy import orm

from auth_service.accounts import find_by_email
from auth_service.models import Account
from tessera_shared.config import Settings
from tessera_shared.db import database_url, engine_options
from tessera_shared.events import emit
from tessera_shared.redis import connect
from tessera_shared.sessions import SessionStore

ROLES = {"grant": "admin", "revoke": "user"}


def set_role(session: orm.Session, sessions: SessionStore, email: str, role: str) -> Account:
    """Change an account's role, effective at once in every live session of it."""
    account = find_by_email(session, email)
    if account is None:
        raise LookupError(f"No account has the email {email!r}.")
    if account.role != role:
        account.role = role
        emit(session, "auth.role_changed", {"user_id": account.id, "role": role})
    sessions.set_role(account.id, role)
    return account


def main(argv: list[str]) -> int:
    settings = Settings.from_env("auth")
    url = database_url(settings)
    engine = sa.create_engine(url, **engine_options(url))
    with orm.Session(engine) as session:
        if argv[:1] == ["list"]:
            for account in session.scalars(sa.select(Account).where(Account.role == "admin")):
                print(account.email)
            return 0
        if len(argv) != 2 or argv[0] not in ROLES:
            print("usage: admin grant <email> | admin revoke <email> | admin list")
            return 2
        try:
            account = set_role(session, SessionStore(connect(settings.redis_url)), argv[1],
                               ROLES[argv[0]])
        except LookupError as error:
            print(error)
            return 1
        session.commit()
        print(f"{account.email} is now {'an admin' if account.role == 'admin' else 'a user'}.")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
