"""Accounts: sign-up (a saga across auth and user services) and lookups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import redis as redis_py
import sqlalchemy as sa
from sqlalchemy import orm

from auth_service import passwords
from auth_service.models import Account, email_key
from tessera_shared.errors import DomainError
from tessera_shared.events import emit
from tessera_shared.ids import uuid7
from tessera_shared.profiles import Profiles
from tessera_shared.sessions import SessionStore

FIRST_ACCOUNT_LOCK = "lock:first-account"


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


def sign_up(session: orm.Session, profiles: Profiles, form: SignUp, *, role: str = "user",
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
    profiles.create(user_id, form.handle, form.display_name)
    try:
        account = Account(id=user_id, email=form.email, email_key=email_key(form.email),
                          password_hash=password_hash, role=role)
        session.add(account)
        emit(session, "user.registered", {
            "user_id": user_id, "handle": form.handle, "display_name": form.display_name,
            "ip": form.ip, "user_agent": form.user_agent, "via": "password"})
        welcome(account)
        session.commit()
    except sa.exc.IntegrityError:
        session.rollback()
        profiles.abandon(session, user_id)
        raise email_taken() from None
    except Exception:
        session.rollback()
        profiles.abandon(session, user_id)
        raise
    return account


def require_verified(account: Account) -> None:
    """An address must be proven before it can be moved away from or guarded by a second
    factor: otherwise anyone could sign up with someone else's address and squat on it."""
    if account.verified_at is None:
        raise DomainError("email:not_verified", 403,
                          "Verify your email address first: open the link we mailed you, or "
                          "ask for a new one with POST /v0/auth/resend-verification-email.")


def registration_closed() -> DomainError:
    return DomainError("user:registration_closed", 401,
                       "This platform does not take new sign-ups; ask its operator.")


def has_users(session: orm.Session, profiles: Profiles) -> bool:
    """Whether anyone at all uses the platform: an account here, or a profile in user-service
    (registry keyholders have no account, but every user of every family has a profile)."""
    return (session.scalar(sa.select(Account.id).limit(1)) is not None
            or profiles.any_exist())


def sign_up_first_or_open(session: orm.Session, profiles: Profiles, redis: redis_py.Redis,
                          form: SignUp, *, registration_open: bool) -> Account:
    """The users API's sign-up: the platform's first user is always made, as an admin (the
    whole action log, addresses included, is theirs to read); later ones only while
    registration is open.

    Two first sign-ups at once must not both become admin, so the bootstrap moment is
    serialised by a lock in Redis (shared by every auth process); after it, no lock is taken.
    """
    if has_users(session, profiles):
        if not registration_open:
            raise registration_closed()
        return sign_up(session, profiles, form)
    session.rollback()  # read again, under the lock, from a fresh snapshot
    with redis.lock(FIRST_ACCOUNT_LOCK, timeout=60, blocking_timeout=30):
        first = not has_users(session, profiles)
        if not first and not registration_open:
            raise registration_closed()
        if not first:
            return sign_up(session, profiles, form)
        return sign_up(session, profiles, form, role="admin",
                       welcome=lambda account: emit(session, "auth.role_changed", {
                           "user_id": account.id, "role": "admin", "reason": "first account"}))


def delete_account(session: orm.Session, sessions: SessionStore, user_id: str) -> bool:
    """Erase what auth-service holds about a user (account and sessions); True if there was
    an account. Applied for `user.deleted`, whichever service the deletion started in."""
    account = session.get(Account, user_id)
    sessions.revoke_all(user_id)
    if account is None:
        return False
    session.delete(account)
    return True
