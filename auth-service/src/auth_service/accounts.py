"""Accounts: sign-up (a saga across auth and user services) and lookups."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import orm

from auth_service import passwords
from auth_service.models import Account, email_key
from tessera_shared.errors import DomainError, service_unavailable
from tessera_shared.events import emit
from tessera_shared.ids import uuid7
from tessera_shared.internal import InternalClient
from tessera_shared.sessions import SessionStore

log = logging.getLogger(__name__)


def email_taken() -> DomainError:
    return DomainError("user:email_already_exists", 409, "An account with that email exists.")


@dataclass(frozen=True)
class SignUp:
    email: str
    handle: str
    display_name: str
    password: str
    ip: str
    user_agent: str


def find_by_email(session: orm.Session, email: str) -> Account | None:
    return session.scalar(sa.select(Account).where(Account.email_key == email_key(email)))


def sign_up(session: orm.Session, internal: InternalClient, form: SignUp,
            *, request_id: str | None = None,
            welcome: Callable[[Account], None] = lambda _account: None) -> Account:
    """Create an account and its profile, or neither.

    Email is checked before handle, as the original API does. The profile is made in
    user-service first (it owns handles, so it settles a race for one); if the account then
    cannot be stored, the profile is removed again. `welcome` runs in the account's own
    transaction (the v0 API queues the verification mail there).
    """
    if find_by_email(session, form.email) is not None:
        raise email_taken()
    passwords.check_new_password(form.password)
    password_hash = passwords.hash_password(form.password)
    user_id = str(uuid7())
    created = internal.call("user", "POST", "/internal/profiles", {
        "id": user_id, "handle": form.handle, "display_name": form.display_name,
    }, request_id=request_id)
    if created.status == 409:
        raise DomainError(created.data["code"], 409, created.data.get("details", "Conflict."))
    if not created.ok:
        raise service_unavailable("The profile service could not create the profile.")
    try:
        account = Account(id=user_id, email=form.email, email_key=email_key(form.email),
                          password_hash=password_hash)
        session.add(account)
        emit(session, "user.registered", {
            "user_id": user_id, "handle": form.handle, "display_name": form.display_name,
            "ip": form.ip, "user_agent": form.user_agent, "via": "password"})
        welcome(account)
        session.commit()
    except sa.exc.IntegrityError:
        session.rollback()
        _abandon(session, internal, user_id, request_id)
        raise email_taken() from None
    except Exception:
        session.rollback()
        _abandon(session, internal, user_id, request_id)
        raise
    return account


def delete_account(session: orm.Session, sessions: SessionStore, user_id: str) -> bool:
    """Erase what auth-service holds about a user (account and sessions); True if there was
    an account. Applied for `user.deleted`, whichever service the deletion started in."""
    account = session.get(Account, user_id)
    sessions.revoke_all(user_id)
    if account is None:
        return False
    session.delete(account)
    return True


def _abandon(session: orm.Session, internal: InternalClient, user_id: str,
             request_id: str | None) -> None:
    """Undo the remote step of a failed sign-up; if user-service cannot be reached now, leave
    the undo to the event stream, so the profile goes away once it can."""
    try:
        if internal.call("user", "DELETE", f"/internal/profiles/{user_id}",
                         request_id=request_id).ok:
            return
    except DomainError:
        pass
    log.warning("sign-up compensation deferred to the event stream", extra={"user_id": user_id})
    emit(session, "user.registration_abandoned", {"user_id": user_id})
    session.commit()
