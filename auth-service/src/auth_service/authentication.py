"""Signing in and out: credentials (a password, then a second factor if it is on) in, a
session out."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import orm

from auth_service import mail, passwords
from auth_service.accounts import find_by_email
from auth_service.models import Account, email_key
from auth_service.two_factor import TwoFactor, temp_token_invalid
from tessera_shared.errors import DomainError, bad_request
from tessera_shared.events import emit
from tessera_shared.sessions import SessionRecord, SessionStore
from tessera_shared.throttle import PASSWORD, PASSWORD_CHANGES_PER_ACCOUNT, Throttle


def invalid_credentials() -> DomainError:
    return DomainError("auth:invalid_credentials", 401, "The email or password is wrong.")


@dataclass(frozen=True)
class Login:
    email: str
    password: str
    remember_me: bool
    ip: str
    user_agent: str
    device: str | None  # the browser's anonymous_user_id, if it sent one


@dataclass(frozen=True)
class SignedIn:
    token: str
    record: SessionRecord


@dataclass(frozen=True)
class SecondFactorRequired:
    temp_token: str


def log_in(session: orm.Session, sessions: SessionStore, throttle: Throttle,
           two_factor: TwoFactor, login: Login,
           *, replacing: str | None = None) -> SignedIn | SecondFactorRequired:
    """Check the password; open a session, or, with TOTP on, hand out the temp token that
    `log_in_second_step` takes with a code. `replacing` is the token of a session the client
    already holds: it is ended, so a login always rotates the session."""
    account = check_password(session, throttle, find_by_email(session, login.email),
                             login.password, typed=email_key(login.email), ip=login.ip,
                             device=login.device, user_agent=login.user_agent)
    if account.totp_enabled_at is not None:
        session.commit()
        return SecondFactorRequired(two_factor.start_login(account,
                                                           remember_me=login.remember_me))
    return open_session(session, sessions, account, remember_me=login.remember_me,
                        ip=login.ip, user_agent=login.user_agent, method="password",
                        replacing=replacing)


def code_required() -> DomainError:
    return DomainError("totp:code_required", 401, "Two-factor authentication is on: send a "
                       "TOTP or backup code as `code`, with the password.")


def log_in_at_once(session: orm.Session, sessions: SessionStore, throttle: Throttle,
                   two_factor: TwoFactor, account: Account | None, password: str,
                   code: str | None, *, typed: str, ip: str, user_agent: str,
                   family: str) -> SignedIn:
    """A login in one request, for families whose clients know no second step: the password,
    and with TOTP on a code beside it (a password alone must not get around TOTP)."""
    account = check_password(session, throttle, account, password, typed=typed, ip=ip,
                             device=None, user_agent=user_agent)
    method = "password"
    if account.totp_enabled_at is not None:
        if not code:
            raise code_required()
        method = prove_second_factor(session, two_factor, account, code, ip=ip,
                                     user_agent=user_agent)
    return open_session(session, sessions, account, remember_me=True, ip=ip,
                        user_agent=user_agent, method=method, family=family)


def check_password(session: orm.Session, throttle: Throttle, account: Account | None,
                   password: str, *, typed: str, ip: str, device: str | None,
                   user_agent: str) -> Account:
    """The account, if `password` is its own; else the login's failure is recorded and
    `auth:invalid_credentials` raised.

    An unknown account costs the same time as a wrong password, and a throttled attempt gets
    the same answer as a wrong one. Throttling counts per account (by `typed`, the normalised
    name the client gave, when there is no such account) and per address, or, from a device
    that signed in before, for that device alone (`tessera_shared.throttle`).
    """
    subject = account.email_key if account else typed
    checks = throttle.checks(PASSWORD, subject, device=device, ip=ip)
    throttled = not throttle.attempt(*checks)
    password_hash = account.password_hash if account else None
    if throttled or not passwords.verify_password(password_hash, password) or account is None:
        emit(session, "auth.login_failed", {"user_id": account.id if account else None,
                                            "ip": ip, "user_agent": user_agent,
                                            "throttled": throttled})
        session.commit()
        raise invalid_credentials()
    throttle.proved(PASSWORD, subject, checks, device=device, ip=ip)
    if password_hash and passwords.needs_rehash(password_hash):
        account.password_hash = passwords.hash_password(password)
    return account


def log_in_second_step(session: orm.Session, sessions: SessionStore, two_factor: TwoFactor,
                       temp_token: str, code: str, *, ip: str, user_agent: str,
                       replacing: str | None = None) -> SignedIn:
    """Finish a TOTP login with a code from the app or a backup code."""
    pending = two_factor.pending_login(temp_token)
    account = session.get(Account, pending.user_id)
    if account is None:  # deleted in the two minutes between the steps
        raise temp_token_invalid()
    method = prove_second_factor(session, two_factor, account, code, ip=ip,
                                 user_agent=user_agent)
    return open_session(session, sessions, account, remember_me=pending.remember_me, ip=ip,
                        user_agent=user_agent, method=method, replacing=replacing)


def prove_second_factor(session: orm.Session, two_factor: TwoFactor, account: Account,
                        code: str, *, ip: str, user_agent: str) -> str:
    """A login's TOTP or backup code; a wrong one is recorded as a failed login."""
    try:
        return two_factor.prove(session, account, code, ip=ip)
    except DomainError:
        emit(session, "auth.login_failed", {"user_id": account.id, "ip": ip,
                                            "user_agent": user_agent, "step": "second_factor"})
        session.commit()
        raise


def open_session(session: orm.Session, sessions: SessionStore, account: Account, *,
                 remember_me: bool, ip: str, user_agent: str, method: str,
                 replacing: str | None = None, family: str = "v0") -> SignedIn:
    """A new session for a proven account (`method`: how it was proven, for the log)."""
    if replacing:
        sessions.revoke(replacing)
    token, record = sessions.create(account.id, remember_me=remember_me, ip=ip,
                                    user_agent=user_agent, role=account.role, family=family)
    emit(session, "auth.logged_in", {"user_id": account.id, "session_id": record.id, "ip": ip,
                                     "user_agent": user_agent, "method": method})
    session.commit()
    return SignedIn(token, record)


def invalid_password() -> DomainError:
    return DomainError("user:invalid_password", 401, "The current password is wrong.")


def password_not_set() -> DomainError:
    return DomainError("user:password_not_set", 401,
                       "This account signs in through another provider and has no password.")


def confirm_password(throttle: Throttle, account: Account, password: str,
                     record: SessionRecord) -> None:
    """A signed-in user proves it is still them before a sensitive change. Throttled like a
    login, but in the session's own bucket: the session is a device that signed in, so
    guesses elsewhere cannot lock its owner out of their own changes."""
    if account.password_hash is None:
        raise password_not_set()
    checks = throttle.in_session(PASSWORD, account.email_key, record.id)
    if not throttle.attempt(*checks) or not passwords.verify_password(account.password_hash,
                                                                      password):
        raise invalid_password()
    throttle.succeeded(*checks)


# Changes that could take an account over (its second factor, its deletion) need credentials
# proven this recently in the same session, as Kratos' privileged session: a stolen cookie
# alone is not enough for them.
PRIVILEGED_SECONDS = 10 * 60


REAUTHENTICATE = "auth:reauthentication_required (POST /v0/auth/reauthenticate first)"


def reauthentication_required() -> DomainError:
    return DomainError("auth:reauthentication_required", 403,
                       "Confirm it is you first: POST /v0/auth/reauthenticate with your "
                       "password (and a code when two-factor authentication is on), then try "
                       f"again within {PRIVILEGED_SECONDS // 60} minutes.")


def require_recent_authentication(record: SessionRecord) -> None:
    if time.time() - record.authenticated_at > PRIVILEGED_SECONDS:
        raise reauthentication_required()


def reauthenticate(session: orm.Session, sessions: SessionStore, throttle: Throttle,
                   two_factor: TwoFactor, account: Account, record: SessionRecord, token: str,
                   *, password: str, code: str | None, ip: str) -> None:
    """Prove the credentials again in this session (the password, and a code when TOTP is
    on), which opens the window for sensitive changes. Flushes a spent code; the caller
    commits."""
    confirm_password(throttle, account, password, record)
    if account.totp_enabled_at is not None:
        if not code:
            raise code_required()
        two_factor.prove(session, account, code, ip=ip)
    if not sessions.mark_authenticated(token):
        raise DomainError("user:unauthorized", 401, "The session ended; sign in again.")


def reconfirm(session: orm.Session, throttle: Throttle, two_factor: TwoFactor, account: Account,
              record: SessionRecord, *, ip: str, password: str | None = None,
              code: str | None = None) -> None:
    """Prove it is still the account's owner before an irreversible step: with the password;
    when TOTP is on, with a TOTP or backup code from a session that has re-authenticated
    recently (a stolen session and password are not enough then, nor a stolen session and
    code). Flushes a spent code; the caller commits."""
    if account.totp_enabled_at is not None:
        if not code:
            raise bad_request("Missing required field: code (two-factor authentication is on)")
        require_recent_authentication(record)
        two_factor.prove(session, account, code, ip=ip)
        return
    if not password:
        raise bad_request("Missing required field: password")
    confirm_password(throttle, account, password, record)


def change_password(session: orm.Session, sessions: SessionStore, throttle: Throttle,
                    account: Account, current: str, new: str, *, record: SessionRecord,
                    ip: str) -> None:
    """Replace the password from the signed-in session `record` and end every other session
    of the account; with TOTP on, only from a recently re-authenticated session. The owner is
    told by mail. A few changes a day at most: each retires the reset links sent before it,
    so someone holding a session and the password must not be able to kill every link the
    owner asks for."""
    if account.totp_enabled_at is not None:
        require_recent_authentication(record)
    confirm_password(throttle, account, current, record)
    if new == current:
        raise bad_request("New password must be different from current password.")
    passwords.check_new_password(new)
    if not throttle.take(PASSWORD_CHANGES_PER_ACCOUNT, account.id):
        raise DomainError("auth:too_many_password_changes", 429,
                          "The password was changed several times today already; try again "
                          "tomorrow, or reset it with \"Forgot password\".")
    account.password_hash = passwords.hash_password(new)
    ended = sessions.revoke_all(account.id, keep=record.id)
    mail.queue(session, account.email, *mail.password_changed_mail(ip))
    emit(session, "auth.password_changed", {"user_id": account.id, "ip": ip,
                                            "sessions_ended": ended})


def log_out(session: orm.Session, sessions: SessionStore, token: str, *, ip: str) -> None:
    record = sessions.revoke(token)
    if record is not None:
        emit(session, "auth.logged_out", {"user_id": record.user_id, "session_id": record.id,
                                          "ip": ip})
        session.commit()
