"""Signing in and out with a password: credentials in, a session out."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import orm

from auth_service import passwords
from auth_service.accounts import find_by_email
from auth_service.models import Account, email_key
from tessera_shared.errors import DomainError, bad_request
from tessera_shared.events import emit
from tessera_shared.sessions import SessionRecord, SessionStore
from tessera_shared.throttle import PASSWORD_PER_ACCOUNT, PASSWORD_PER_IP, Throttle


def invalid_credentials() -> DomainError:
    return DomainError("auth:invalid_credentials", 401, "The email or password is wrong.")


@dataclass(frozen=True)
class Login:
    email: str
    password: str
    remember_me: bool
    ip: str
    user_agent: str


def log_in(session: orm.Session, sessions: SessionStore, throttle: Throttle, login: Login,
           *, replacing: str | None = None) -> tuple[str, SessionRecord]:
    """Check the password and open a session; returns the session token and record.

    An unknown email costs the same time as a wrong password, and a throttled attempt gets the
    same answer as a wrong one. `replacing` is the token of a session the client already
    holds: it is ended, so a login always rotates the session.
    """
    checks = ((PASSWORD_PER_ACCOUNT, email_key(login.email)), (PASSWORD_PER_IP, login.ip))
    account = find_by_email(session, login.email)
    throttled = not throttle.allows(*checks)
    password_hash = account.password_hash if account else None
    if throttled or not passwords.verify_password(password_hash, login.password) or (
            account is None):
        throttle.failed(*checks)
        emit(session, "auth.login_failed", {"user_id": account.id if account else None,
                                            "ip": login.ip, "user_agent": login.user_agent,
                                            "throttled": throttled})
        session.commit()
        raise invalid_credentials()
    throttle.succeeded(PASSWORD_PER_ACCOUNT, email_key(login.email))
    if password_hash and passwords.needs_rehash(password_hash):
        account.password_hash = passwords.hash_password(login.password)
    if replacing:
        sessions.revoke(replacing)
    token, record = sessions.create(account.id, remember_me=login.remember_me, ip=login.ip,
                                    user_agent=login.user_agent, role=account.role)
    emit(session, "auth.logged_in", {"user_id": account.id, "session_id": record.id,
                                     "ip": login.ip, "user_agent": login.user_agent,
                                     "method": "password"})
    session.commit()
    return token, record


def invalid_password() -> DomainError:
    return DomainError("user:invalid_password", 401, "The current password is wrong.")


def password_not_set() -> DomainError:
    return DomainError("user:password_not_set", 401,
                       "This account signs in through another provider and has no password.")


def confirm_password(throttle: Throttle, account: Account, password: str, *, ip: str) -> None:
    """A signed-in user proves it is still them before a sensitive change (throttled like a
    login)."""
    if account.password_hash is None:
        raise password_not_set()
    checks = ((PASSWORD_PER_ACCOUNT, account.email_key), (PASSWORD_PER_IP, ip))
    if not throttle.allows(*checks) or not passwords.verify_password(account.password_hash,
                                                                     password):
        throttle.failed(*checks)
        raise invalid_password()


def change_password(session: orm.Session, sessions: SessionStore, throttle: Throttle,
                    account: Account, current: str, new: str, *, keep_session: str,
                    ip: str) -> None:
    """Replace the password and end every other session of the account."""
    confirm_password(throttle, account, current, ip=ip)
    if new == current:
        raise bad_request("New password must be different from current password.")
    passwords.check_new_password(new)
    account.password_hash = passwords.hash_password(new)
    ended = sessions.revoke_all(account.id, keep=keep_session)
    emit(session, "auth.password_changed", {"user_id": account.id, "ip": ip,
                                            "sessions_ended": ended})


def log_out(session: orm.Session, sessions: SessionStore, token: str, *, ip: str) -> None:
    record = sessions.revoke(token)
    if record is not None:
        emit(session, "auth.logged_out", {"user_id": record.user_id, "session_id": record.id,
                                          "ip": ip})
        session.commit()
