"""Two-factor authentication: TOTP (RFC 6238) and backup codes.

TOTP as the v0 original: SHA-1, 6 digits, 30-second steps, one step of clock skew either way.
A code is accepted once: the account keeps the newest time step it accepted, and a code is
taken only by an UPDATE that moves that step forward, so two requests racing with one code
(or a code seen over someone's shoulder) cannot both win. The secret is sealed at rest with a
key derived from SECRET_KEY and bound to the account.

Backup codes: ten codes of eight characters from A-Z and 0-9, shown once; stored as a keyed
hash (HMAC-SHA256, key derived from SECRET_KEY), so a copy of the database alone cannot be
searched for them. Using one deletes its row; the delete decides a race.

Every code check is throttled per account and per address, like a password.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import string
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import pyotp
import sqlalchemy as sa
from sqlalchemy import orm

from auth_service import errors, mail
from auth_service.accounts import require_verified
from auth_service.models import Account, BackupCode
from auth_service.tokens import TOTP_LOGIN, TokenStore
from tessera_shared.clock import utcnow
from tessera_shared.keys import Vault, derive
from tessera_shared.outbox import emit
from tessera_shared.sessions import SessionStore
from tessera_shared.throttle import TOTP_CODE, Checks, Throttle
from tessera_shared.transactions import after_commit, unit_of_work

ISSUER = "Tessera"  # the name authenticator apps show beside the account
TOTP_DIGITS = 6
SKEW = 1  # time steps accepted either side of now
BACKUP_CODE_COUNT = 10
BACKUP_CODE_LENGTH = 8
BACKUP_CODE_ALPHABET = string.ascii_uppercase + string.digits

Method = Literal["totp", "backup_code"]








@dataclass(frozen=True)
class Enrollment:
    uri: str       # otpauth://totp/... for authenticator apps
    qr_png: bytes  # the same URI as a QR code


@dataclass(frozen=True)
class Status:
    enabled: bool
    enabled_at: datetime | None
    backup_codes_remaining: int | None


@dataclass(frozen=True)
class PendingLogin:
    """A login whose first factor was proven and whose second factor is still owed."""

    user_id: str
    remember_me: bool
    first_factor: str  # how: "password", "passkey", a provider's name; "unknown"

    @classmethod
    def of(cls, payload: dict[str, object]) -> PendingLogin:
        return cls(str(payload["user_id"]), bool(payload["remember_me"]),
                   # a token from a process that predates passkeys names none
                   str(payload.get("first_factor", "unknown")))


class TwoFactor:
    """The second factor's use cases and steps, bound once in `create_app`."""

    def __init__(self, session: orm.scoped_session, secret_key: bytes, throttle: Throttle,
                 tokens: TokenStore, sessions: SessionStore) -> None:
        self.session = session
        self.vault = Vault(secret_key, "tessera totp secret")
        self.backup_key = derive(secret_key, "tessera backup codes")
        self.throttle = throttle
        self.tokens = tokens
        self.sessions = sessions

    # --- the user's own settings ------------------------------------------------------------

    def set_up(self, account: Account) -> Enrollment:
        """Give the account a new secret, not yet in force (enable asks a code from it).
        Only for a verified address: a second factor must not guard an address squatted by
        someone who signed up with it."""
        with unit_of_work(self.session):
            require_verified(account)
            if account.totp_enabled_at is not None:
                raise errors.TOTP_ALREADY_ENABLED()
            secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
            account.totp_secret = self.vault.seal(secret, account.id)
            account.totp_last_step = None
        uri = pyotp.TOTP(secret).provisioning_uri(name=account.email, issuer_name=ISSUER)
        return Enrollment(uri, _qr_png(uri))

    def enable(self, account: Account, code: str, *, ip: str, keep_session: str) -> list[str]:
        """Put TOTP in force with a first code from the app; returns fresh backup codes. The
        account's other sessions end (if one was a thief's, it is out now), and the owner is
        told by mail."""
        with unit_of_work(self.session):
            if account.totp_enabled_at is not None:
                raise errors.TOTP_ALREADY_ENABLED()
            if account.totp_secret is None:
                raise errors.TOTP_NOT_SET_UP()
            step, checks = self._check_totp(account, code, ip=ip)
            if not _advance(self.session, account, step, Account.totp_enabled_at.is_(None),
                            totp_enabled_at=utcnow()):
                # The refused UPDATE waited for any enable racing it: a re-read, in this very
                # transaction, sees whether one won.
                self.session.refresh(account)
                if account.totp_enabled_at is not None:
                    raise errors.TOTP_ALREADY_ENABLED()  # a concurrent enable won
                raise errors.INVALID_CODE()  # the code was used already
            self.throttle.proved(TOTP_CODE, account.id, checks, device=None, ip=ip)
            codes = self._replace_backup_codes(account)
            emit(self.session, "auth.totp_enabled", {"user_id": account.id, "ip": ip})
            mail.queue(self.session, account.email, *mail.second_factor_mail("turned on", ip))
            after_commit(self.session,
                         lambda: self.sessions.revoke_all(account.id, keep=keep_session))
            return codes

    def regenerate_backup_codes(self, account: Account, code: str, *, ip: str) -> list[str]:
        """New backup codes for a TOTP code (a backup code cannot mint more of itself)."""
        with unit_of_work(self.session):
            self._require_enabled(account)
            self._take_totp(account, code, ip=ip)
            codes = self._replace_backup_codes(account)
            emit(self.session, "auth.backup_codes_regenerated",
                 {"user_id": account.id, "ip": ip})
            mail.queue(self.session, account.email,
                       *mail.second_factor_mail("given new backup codes", ip))
            return codes

    def disable(self, account: Account, code: str, *, ip: str) -> None:
        """Turn TOTP off with a TOTP or backup code; forgets the secret and backup codes."""
        with unit_of_work(self.session):
            self.prove(account, code, ip=ip)
            self.forget(account, ip=ip)
            mail.queue(self.session, account.email, *mail.second_factor_mail("turned off", ip))

    def forget(self, account: Account, *, ip: str) -> None:
        """TOTP off, secret and backup codes gone, without a code (the caller has its reason:
        a disable proven by a code, or the owner taking the account back); unmailed."""
        account.totp_secret = account.totp_enabled_at = account.totp_last_step = None
        self.session.execute(sa.delete(BackupCode).where(BackupCode.account_id == account.id))
        emit(self.session, "auth.totp_disabled", {"user_id": account.id, "ip": ip})

    def status(self, account: Account) -> Status:
        if account.totp_enabled_at is None:
            return Status(False, None, None)
        remaining = self.session.scalar(sa.select(sa.func.count()).select_from(BackupCode)
                                        .where(BackupCode.account_id == account.id))
        return Status(True, account.totp_enabled_at, remaining or 0)

    # --- proving the second factor ------------------------------------------------------------

    def prove(self, account: Account, code: str, *, ip: str) -> Method:
        """Accept a 6-digit TOTP code or an 8-character backup code, once (a step of the
        caller's unit of work); anything else raises `totp:invalid_code`."""
        self._require_enabled(account)
        code = code.strip()
        if len(code) == TOTP_DIGITS:
            self._take_totp(account, code, ip=ip)
            return "totp"
        if len(code) == BACKUP_CODE_LENGTH:
            self._take_backup_code(account, code, ip=ip)
            return "backup_code"
        raise errors.INVALID_CODE()

    def start_login(self, account: Account, *, remember_me: bool, first_factor: str) -> str:
        """The temp token a client trades, with a code, for a session (120 s, single use)."""
        return self.tokens.issue(TOTP_LOGIN, {"user_id": account.id, "remember_me": remember_me,
                                              "first_factor": first_factor})

    def peek_login(self, temp_token: str) -> PendingLogin | None:
        """The login a temp token stands for, leaving the token unspent (a passkey's options
        for the second step are asked for before the step itself)."""
        payload = self.tokens.read(TOTP_LOGIN, temp_token)
        return None if payload is None else PendingLogin.of(payload)

    def pending_login(self, temp_token: str, *, ip: str) -> PendingLogin:
        """Redeem a temp token: it is spent even if the code that comes with it is wrong."""
        payload = self.tokens.redeem(TOTP_LOGIN, temp_token, ip=ip)
        if payload is None:
            raise errors.TEMP_TOKEN_INVALID()
        return PendingLogin.of(payload)

    # --- internals -----------------------------------------------------------------------------

    def _require_enabled(self, account: Account) -> None:
        if account.totp_enabled_at is None or account.totp_secret is None:
            raise errors.TOTP_NOT_ENABLED()

    def _checks(self, account: Account, ip: str) -> Checks:
        """A code can be wrong only after the password was right, so the address is the
        device here: the (account, address) pairs that proved a code before are known."""
        return self.throttle.checks(TOTP_CODE, account.id, device=None, ip=ip)

    def _check_totp(self, account: Account, code: str, *, ip: str) -> tuple[int, Checks]:
        """The time step of a TOTP code, if it is one of the accepted ones (not yet taken),
        and the throttle's checks it was counted under. A wrong code, a replayed one and a
        throttled attempt all answer the same."""
        checks = self._checks(account, ip)
        if not self.throttle.attempt(*checks):
            raise errors.INVALID_CODE()
        step = matching_step(self.vault.open(account.totp_secret or "", account.id), code,
                             time.time())
        if step is None:
            raise errors.INVALID_CODE()
        return step, checks

    def _take_totp(self, account: Account, code: str, *, ip: str) -> None:
        step, checks = self._check_totp(account, code, ip=ip)
        if not _advance(self.session, account, step):
            raise errors.INVALID_CODE()  # taken already: counted as a wrong one
        self.throttle.proved(TOTP_CODE, account.id, checks, device=None, ip=ip)

    def _take_backup_code(self, account: Account, code: str,
                          *, ip: str) -> None:
        mine = BackupCode.account_id == account.id
        if not self.session.scalar(sa.select(sa.exists().where(mine))):
            raise errors.BACKUP_CODES_EXHAUSTED()
        checks = self._checks(account, ip)
        if not self.throttle.attempt(*checks):
            raise errors.INVALID_CODE()
        used = self.session.execute(sa.delete(BackupCode).where(
            mine, BackupCode.code_digest == self._digest(account, code.upper()))).rowcount
        if not used:
            raise errors.INVALID_CODE()
        self.throttle.proved(TOTP_CODE, account.id, checks, device=None, ip=ip)

    def _replace_backup_codes(self, account: Account) -> list[str]:
        codes = [_new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
        self.session.execute(sa.delete(BackupCode).where(BackupCode.account_id == account.id))
        self.session.add_all(BackupCode(account_id=account.id,
                                        code_digest=self._digest(account, code))
                             for code in codes)
        return codes

    def _digest(self, account: Account, code: str) -> str:
        message = f"{account.id}:{code}".encode()
        return hmac.new(self.backup_key, message, hashlib.sha256).hexdigest()


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The accepted time step whose code this is; every step is compared, in constant time."""
    if not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    matched = None
    for step in range(current - SKEW, current + SKEW + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode(), code.encode()):
            matched = step
    return matched


def _advance(session: orm.Session | orm.scoped_session, account: Account, step: int,
             *conditions: sa.ColumnElement[bool], **values: object) -> bool:
    """Make `step` the account's newest accepted one (setting `values` too), unless that step
    or a later one was accepted already, or `conditions` do not hold: one UPDATE decides."""
    newer = sa.or_(Account.totp_last_step.is_(None), Account.totp_last_step < step)
    return bool(session.execute(sa.update(Account)
                                .where(Account.id == account.id, newer, *conditions)
                                .values(totp_last_step=step, **values)).rowcount)


def _new_backup_code() -> str:
    return "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))


def _qr_png(text: str) -> bytes:
    # qrcode brings Pillow: ~130 ms and a few MiB every auth process would pay at start for
    # a call made once per enrolment.
    import qrcode  # noqa: PLC0415  # only when needed

    image = qrcode.make(text, box_size=6, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
