"""Accounts: sign-up (a saga across auth and user services) and lookups."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import redis as redis_py
import sqlalchemy as sa
from sqlalchemy import orm

from auth_service import errors, passwords
from auth_service.models import Account, Connection, Passkey, email_key
from tessera_shared.clients.profiles import NewProfile, Profiles
from tessera_shared.clock import utcnow
from tessera_shared.ids import uuid7
from tessera_shared.outbox import emit
from tessera_shared.sessions import Client, SessionRecord, SessionStore
from tessera_shared.signup import reserve_profile
from tessera_shared.throttle import sign_ups_per_ip
from tessera_shared.transactions import after_commit, unit_of_work

if TYPE_CHECKING:
    from auth_service.authentication import Authenticator

FIRST_ACCOUNT_LOCK = "lock:first-account"



@dataclass(frozen=True)
class SignUp:
    email: str
    handle: str
    display_name: str
    password: str | None  # None: the account signs in through a provider only
    verified: bool = False  # the address is proven already (a provider verified it)
    via: str = "password"
    # More of the profile (`bio`, `pronounce`, `website`: the user API's sign-up).
    about: Mapping[str, str | None] = field(default_factory=dict)


def find_by_email(session: orm.Session | orm.scoped_session, email: str) -> Account | None:
    return session.scalar(sa.select(Account).where(Account.email_key == email_key(email)))


def account_of(session: orm.Session | orm.scoped_session, user_id: str) -> Account:
    account = session.get(Account, user_id)
    if account is None:
        raise errors.ACCOUNT_NOT_FOUND()
    return account


def can_sign_in(session: orm.Session | orm.scoped_session, account: Account) -> bool:
    """Whether some way in is left: a password, a linked provider or a passkey."""
    if account.password_hash is not None:
        return True
    return bool(session.scalar(sa.select(
        sa.exists().where(Connection.account_id == account.id)
        | sa.exists().where(Passkey.account_id == account.id))))


def require_verified(account: Account) -> None:
    """An address must be proven before it can be moved away from or guarded by a second
    factor: otherwise anyone could sign up with someone else's address and squat on it."""
    if account.verified_at is None:
        raise errors.EMAIL_NOT_VERIFIED()



@dataclass(frozen=True)
class SignUpPolicy:
    registration_open: bool  # the users API's switch (its first sign-up is always taken)
    per_address: int         # sign-ups one address may attempt an hour, in every family


def _no_welcome(_account: Account) -> None:
    pass


class Accounts:
    """Signing up and leaving, bound once in `create_app`. Each public method is one use case
    and one unit of work."""

    def __init__(self, session: orm.scoped_session, profiles: Profiles, redis: redis_py.Redis,
                 authenticator: Authenticator, policy: SignUpPolicy) -> None:
        self.session = session
        self.profiles = profiles
        self.redis = redis
        self.authenticator = authenticator
        self.sessions = authenticator.sessions
        self.registration_open = policy.registration_open
        self.sign_ups = sign_ups_per_ip(policy.per_address)

    def sign_up(self, form: SignUp, client: Client, *,
                welcome: Callable[[Account], None] = _no_welcome) -> Account:
        """Create an account and its profile, or neither. `welcome` runs in the account's own
        transaction (the v0 API queues the verification mail there)."""
        self._count_sign_up(client)
        with unit_of_work(self.session):
            return self._sign_up(form, client, role="user", welcome=welcome)

    def sign_up_first_or_open(self, form: SignUp, client: Client) -> Account:
        """The users API's sign-up: the platform's first user is always made, as an admin
        (the whole action log, addresses included, is theirs to read); later ones only while
        registration is open.

        Two first sign-ups at once must not both become admin, so the bootstrap moment is
        serialised by a lock in Redis (shared by every auth process), and the first account's
        unit of work commits inside it; after it, no lock is taken. The username is checked
        before the address, as that API's original does (a race for it is settled by the
        profile, as in every sign-up).
        """
        self._count_sign_up(client)
        if self.profiles.find(form.handle) is not None:
            raise errors.HANDLE_TAKEN()
        if self._has_users():
            self._require_open()
            with unit_of_work(self.session):
                return self._sign_up(form, client, role="user", welcome=_no_welcome)
        self.session.rollback()  # read again, under the lock, from a fresh snapshot
        with (self.redis.lock(FIRST_ACCOUNT_LOCK, timeout=60, blocking_timeout=30),
              unit_of_work(self.session)):
            if self._has_users():
                self._require_open()
                return self._sign_up(form, client, role="user", welcome=_no_welcome)
            return self._sign_up(form, client, role="admin", welcome=lambda account: emit(
                self.session, "auth.role_changed", {
                    "user_id": account.id, "role": "admin", "reason": "first account"}))

    def close(self, record: SessionRecord, *, ip: str, password: str | None = None,
              code: str | None = None) -> None:
        """Delete the signed-in user everywhere once it is proven to be the owner
        (`Authenticator.reconfirm`): the account and sessions here and now, the profile now
        if user-service answers (so no answer shows the user after this one), everything
        else through `user.deleted`."""
        with unit_of_work(self.session):
            account = account_of(self.session, record.user_id)
            self.authenticator.reconfirm(account, record, ip=ip, password=password, code=code)
            emit(self.session, "user.deleted", {"user_id": account.id, "ip": ip})
            erase(self.session, self.sessions, account.id)
            user_id = account.id
            after_commit(self.session, lambda: self.profiles.delete(user_id))

    def _count_sign_up(self, client: Client) -> None:
        """Every attempt counts, refused or not: a taken address answers differently, so
        sign-up attempts are also probes for who has an account."""
        if not self.authenticator.throttle.take(self.sign_ups, client.ip):
            raise errors.TOO_MANY_SIGN_UPS()

    def _require_open(self) -> None:
        if not self.registration_open:
            raise errors.REGISTRATION_CLOSED()

    def _has_users(self) -> bool:
        """Whether anyone at all uses the platform: an account here, or a profile in
        user-service (registry keyholders have no account, but every user of every family has
        a profile)."""
        return (self.session.scalar(sa.select(Account.id).limit(1)) is not None
                or self.profiles.any_exist())

    def _sign_up(self, form: SignUp, client: Client, *, role: str,
                 welcome: Callable[[Account], None]) -> Account:
        """Email is checked before handle, as the v0 original does (the users API's variant
        checks the handle first, above). The profile is made in user-service first (it owns
        handles, so it settles a race for one); if the sign-up's unit of work then rolls back,
        the profile is removed again."""
        if find_by_email(self.session, form.email) is not None:
            raise errors.EMAIL_TAKEN()
        password_hash = None
        if form.password is not None:
            passwords.check_new_password(form.password)
            password_hash = passwords.hash_password(form.password)
        user_id = str(uuid7())
        reserve_profile(self.session, self.profiles, NewProfile(
            user_id, form.handle, form.display_name, is_verified=form.verified, **form.about))
        account = Account(id=user_id, email=form.email, email_key=email_key(form.email),
                          password_hash=password_hash, role=role,
                          verified_at=utcnow() if form.verified else None)
        self.session.add(account)
        try:
            self.session.flush()  # two sign-ups for one address at once: the second loses here
        except sa.exc.IntegrityError:
            raise errors.EMAIL_TAKEN() from None
        emit(self.session, "user.registered", {
            "user_id": user_id, "handle": form.handle, "display_name": form.display_name,
            "ip": client.ip, "user_agent": client.user_agent, "via": form.via})
        welcome(account)
        return account


def erase(session: orm.Session | orm.scoped_session, sessions: SessionStore,
          user_id: str) -> bool:
    """Erase what auth-service holds about a user (account and sessions); True if there was
    an account. Applied for `user.deleted`, whichever service the deletion started in."""
    account = session.get(Account, user_id)
    sessions.revoke_all(user_id)
    if account is None:
        return False
    session.delete(account)
    return True
