"""Signing in and out: credentials (a password, then a second factor if it is on) in, a
session out."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import orm

from auth_service import errors, mail, passwords
from auth_service.accounts import account_of, find_by_email
from auth_service.models import Account, email_key
from auth_service.two_factor import TwoFactor
from tessera_shared.errors import DomainError, bad_request
from tessera_shared.outbox import emit
from tessera_shared.sessions import Client, SessionRecord, SessionStore
from tessera_shared.throttle import PASSWORD, PASSWORD_CHANGES_PER_ACCOUNT, Throttle
from tessera_shared.transactions import record_failure, unit_of_work


@dataclass(frozen=True)
class Login:
    email: str
    password: str
    remember_me: bool


@dataclass(frozen=True)
class OneStepLogin:
    """A login whose second factor, if any, comes with the password."""

    account: Account | None  # as the client named it; None if no account has that name
    typed: str               # the name as typed, normalised: what throttling counts without one
    password: str
    code: str | None


@dataclass(frozen=True)
class SignedIn:
    token: str
    record: SessionRecord


@dataclass(frozen=True)
class SecondFactorRequired:
    temp_token: str


# Changes that could take an account over (its second factor, its deletion) need credentials
# proven this recently in the same session, as Kratos' privileged session: a stolen cookie
# alone is not enough for them.
PRIVILEGED_SECONDS = 10 * 60


REAUTHENTICATE = "auth:reauthentication_required (POST /v0/auth/reauthenticate first)"


def require_recent_authentication(record: SessionRecord) -> None:
    if time.time() - record.authenticated_at > PRIVILEGED_SECONDS:
        raise errors.REAUTHENTICATION_REQUIRED(
            "Confirm it is you first: POST /v0/auth/reauthenticate with your password (and a "
            "code when two-factor authentication is on), or, for an account without a "
            "password, sign in again through its provider; then try again within "
            f"{PRIVILEGED_SECONDS // 60} minutes.")


class Authenticator:
    """Signing in, proving it again, and signing out; bound once in `create_app`. Each public
    method is one use case and one unit of work."""

    def __init__(self, session: orm.scoped_session, sessions: SessionStore, throttle: Throttle,
                 two_factor: TwoFactor) -> None:
        self.session = session
        self.sessions = sessions
        self.throttle = throttle
        self.two_factor = two_factor

    def log_in(self, login: Login, client: Client, *, replacing: str | None = None
               ) -> SignedIn | SecondFactorRequired:
        """Check the password; open a session, or, with TOTP on, hand out the temp token that
        `log_in_second_step` takes with a code. `replacing` is the token of a session the
        client already holds: it is ended, so a login always rotates the session."""
        with unit_of_work(self.session):
            account = self.check_password(find_by_email(self.session, login.email),
                                          login.password, typed=email_key(login.email),
                                          client=client)
            return self.after_first_factor(account, client, method="password",
                                           remember_me=login.remember_me, replacing=replacing)

    def after_first_factor(self, account: Account, client: Client, *, method: str,
                           remember_me: bool, replacing: str | None = None
                           ) -> SignedIn | SecondFactorRequired:
        """Go on with a login whose first factor (`method`: a password, a provider) is proven:
        a session, or, with TOTP on, the temp token `log_in_second_step` takes with a code (a
        second factor that another way in skipped would be none). Part of the caller's unit
        of work."""
        if account.totp_enabled_at is not None:
            return SecondFactorRequired(self.two_factor.start_login(
                account, remember_me=remember_me, first_factor=method))
        self.end_replaced(replacing)
        return self.open_session(account, client, remember_me=remember_me, method=method)

    def log_in_at_once(self, attempt: OneStepLogin, client: Client, *, family: str,
                       keep_newest: int) -> SignedIn:
        """A login in one request, for families whose clients know no second step: the
        password, and with TOTP on a code beside it (a password alone must not get around
        TOTP). The family's oldest sessions of the account end beyond `keep_newest`."""
        with unit_of_work(self.session):
            account = self.check_password(attempt.account, attempt.password,
                                          typed=attempt.typed, client=client)
            method = "password"
            if account.totp_enabled_at is not None:
                if not attempt.code:
                    raise errors.CODE_REQUIRED()
                method = self._prove_second_factor(account, attempt.code, client)
            signed_in = self.open_session(account, client, remember_me=True, method=method,
                                          family=family)
        self.sessions.keep_newest(account.id, family, keep_newest)
        return signed_in

    def log_in_second_step(self, temp_token: str, code: str, *, client: Client,
                           replacing: str | None = None) -> SignedIn:
        """Finish a TOTP login with a code from the app or a backup code."""
        with unit_of_work(self.session):
            pending = self.two_factor.pending_login(temp_token, ip=client.ip)
            account = self.session.get(Account, pending.user_id)
            if account is None:  # deleted in the two minutes between the steps
                raise errors.TEMP_TOKEN_INVALID()
            method = self._prove_second_factor(account, code, client)
            self.end_replaced(replacing)
            return self.open_session(account, client, remember_me=pending.remember_me,
                                     method=method)

    def check_password(self, account: Account | None, password: str, *, typed: str,
                       client: Client) -> Account:
        """The account, if `password` is its own; else the login's failure is recorded and
        `auth:invalid_credentials` raised.

        An unknown account costs the same time as a wrong password, and a throttled attempt
        gets the same answer as a wrong one. Throttling counts per account (by `typed`, the
        normalised name the client gave, when there is no such account) and per address, or,
        from a device that signed in before, for that device alone (`tessera_shared.throttle`).
        """
        subject = account.email_key if account else typed
        checks = self.throttle.checks(PASSWORD, subject, device=client.device, ip=client.ip)
        throttled = not self.throttle.attempt(*checks)
        password_hash = account.password_hash if account else None
        if (throttled or not passwords.verify_password(password_hash, password)
                or account is None):
            self.record_failed_login(account.id if account else None, client,
                                      throttled=throttled)
            raise errors.INVALID_CREDENTIALS()
        self.throttle.proved(PASSWORD, subject, checks, device=client.device, ip=client.ip)
        if password_hash and passwords.needs_rehash(password_hash):
            account.password_hash = passwords.hash_password(password)
        return account

    def confirm_password(self, account: Account, password: str, record: SessionRecord) -> None:
        """A signed-in user proves it is still them before a sensitive change. Throttled like
        a login, but in the session's own bucket: the session is a device that signed in, so
        guesses elsewhere cannot lock its owner out of their own changes."""
        if account.password_hash is None:
            raise errors.PASSWORD_NOT_SET()
        checks = self.throttle.in_session(PASSWORD, account.email_key, record.id)
        if not self.throttle.attempt(*checks) or not passwords.verify_password(
                account.password_hash, password):
            raise errors.INVALID_PASSWORD()
        self.throttle.succeeded(*checks)

    def reauthenticate(self, record: SessionRecord, token: str, *, password: str,
                       code: str | None, ip: str) -> None:
        """Prove the credentials again in this session (the password, and a code when TOTP
        is on), which opens the window for sensitive changes."""
        with unit_of_work(self.session):
            account = account_of(self.session, record.user_id)
            self.confirm_password(account, password, record)
            if account.totp_enabled_at is not None:
                if not code:
                    raise errors.CODE_REQUIRED()
                self.two_factor.prove(account, code, ip=ip)
            if not self.sessions.mark_authenticated(token):
                raise errors.SESSION_ENDED()

    def reconfirm(self, account: Account, record: SessionRecord, *, ip: str,
                  password: str | None = None, code: str | None = None) -> None:
        """Prove it is still the account's owner before an irreversible step: with the
        password; when TOTP is on, with a TOTP or backup code from a session that has
        re-authenticated recently (a stolen session and password are not enough then, nor a
        stolen session and code); without a password or TOTP, by a sign-in through the
        account's provider in the last minutes (a fresh round trip proves what a password
        would). Part of the caller's unit of work."""
        if account.totp_enabled_at is not None:
            if not code:
                raise bad_request("Missing required field: code (two-factor authentication "
                                  "is on)")
            require_recent_authentication(record)
            self.two_factor.prove(account, code, ip=ip)
            return
        if account.password_hash is None:
            require_recent_authentication(record)
            return
        if not password:
            raise bad_request("Missing required field: password")
        self.confirm_password(account, password, record)

    def change_password(self, record: SessionRecord, current: str, new: str, *,
                        ip: str) -> None:
        """Replace the password from the signed-in session `record` and end every other
        session of the account; with TOTP on, only from a recently re-authenticated session.
        The owner is told by mail. A few changes a day at most: each retires the reset links
        sent before it, so someone holding a session and the password must not be able to
        kill every link the owner asks for."""
        with unit_of_work(self.session):
            account = account_of(self.session, record.user_id)
            if account.totp_enabled_at is not None:
                require_recent_authentication(record)
            self.confirm_password(account, current, record)
            if new == current:
                raise bad_request("New password must be different from current password.")
            passwords.check_new_password(new, field="new_password")
            if not self.throttle.take(PASSWORD_CHANGES_PER_ACCOUNT, account.id):
                raise errors.TOO_MANY_PASSWORD_CHANGES()
            account.password_hash = passwords.hash_password(new)
            ended = self.sessions.revoke_all(account.id, keep=record.id)
            mail.queue(self.session, account.email, *mail.password_changed_mail(ip))
            emit(self.session, "auth.password_changed", {"user_id": account.id, "ip": ip,
                                                         "sessions_ended": ended})

    def log_out(self, token: str, *, ip: str) -> bool:
        """End the session `token` opens; False if it opens none (any more)."""
        with unit_of_work(self.session):
            record = self.sessions.revoke(token)
            if record is not None:
                emit(self.session, "auth.logged_out", {
                    "user_id": record.user_id, "session_id": record.id, "ip": ip})
        return record is not None

    def end_session(self, current: SessionRecord, session_id: str, *, ip: str) -> None:
        """End one of the user's sessions (the current one too, if named); ending another
        one takes a recent sign-in, so a stolen cookie cannot throw the owner out."""
        if session_id != current.id:
            require_recent_authentication(current)
        with unit_of_work(self.session):
            if not self.sessions.revoke_id(current.user_id, session_id):
                raise errors.SESSION_NOT_FOUND()
            emit(self.session, "auth.session_revoked", {
                "user_id": current.user_id, "session_id": session_id, "ip": ip})

    def end_other_sessions(self, current: SessionRecord, *, ip: str) -> None:
        """End every session of the user but `current` (which must have signed in
        recently)."""
        require_recent_authentication(current)
        with unit_of_work(self.session):
            ended = self.sessions.revoke_all(current.user_id, keep=current.id)
            emit(self.session, "auth.sessions_revoked", {
                "user_id": current.user_id, "count": ended, "kept": current.id, "ip": ip})

    def end_replaced(self, replacing: str | None) -> None:
        """A login always rotates the session: the one the client held (if any) ends."""
        if replacing:
            self.sessions.revoke(replacing)

    def _prove_second_factor(self, account: Account, code: str, client: Client) -> str:
        """A login's TOTP or backup code; a wrong one is recorded as a failed login."""
        try:
            return self.two_factor.prove(account, code, ip=client.ip)
        except DomainError:
            self.record_failed_login(account.id, client, step="second_factor")
            raise

    def record_failed_login(self, user_id: str | None, client: Client,
                             **details: object) -> None:
        """`auth.login_failed`, kept though the login's own unit of work rolls back."""
        failure = {"user_id": user_id, "ip": client.ip, "user_agent": client.user_agent,
                   **details}
        record_failure(self.session, lambda own: emit(own, "auth.login_failed", failure))

    def open_session(self, account: Account, client: Client, *, remember_me: bool,
                      method: str, family: str = "v0") -> SignedIn:
        """A new session for a proven account (`method`: how it was proven, for the log)."""
        token, record = self.sessions.create(account.id, client, remember_me=remember_me,
                                             role=account.role, family=family)
        emit(self.session, "auth.logged_in", {
            "user_id": account.id, "session_id": record.id, "ip": client.ip,
            "user_agent": client.user_agent, "method": method})
        return SignedIn(token, record)
