"""The flows that go through a mailbox: verifying an address, resetting a forgotten password
(by a link, or by a code for the users API), moving an account to a new address. Each issues a
single-use token or code and queues a mail with it; the mail is sent only if the request's
transaction commits."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from auth_service import mail, passwords
from auth_service.accounts import email_taken, find_by_email, require_verified
from auth_service.authentication import (
    confirm_password,
    password_not_set,
    require_recent_authentication,
)
from auth_service.models import Account, email_key
from auth_service.reset_codes import ResetCodes, new_request_id
from auth_service.tokens import (
    EMAIL_CHANGE,
    EMAIL_CHANGE_REPORT,
    PASSWORD_RESET,
    VERIFICATION,
    Kind,
    TokenStore,
)
from auth_service.two_factor import TwoFactor
from tessera_shared.clock import as_utc, utcnow
from tessera_shared.config import Settings
from tessera_shared.errors import DomainError, bad_request
from tessera_shared.events import emit
from tessera_shared.ids import digest
from tessera_shared.sessions import SessionRecord, SessionStore
from tessera_shared.throttle import MAIL_PER_ACCOUNT, RESET_CODE, TOKEN_PER_IP, Throttle


@dataclass(frozen=True)
class Mailroom:
    """What these flows need besides the database session."""

    settings: Settings
    tokens: TokenStore
    reset_codes: ResetCodes
    throttle: Throttle

    def redeem(self, kind: Kind, token: str, *, ip: str, refusal: DomainError) -> dict[str, Any]:
        """A token's claim, or `refusal` (also while this address is throttled)."""
        if not self.throttle.attempt((TOKEN_PER_IP, ip)):
            raise refusal
        claim = self.tokens.redeem(kind, token)
        if claim is None:
            raise refusal
        self.throttle.succeeded((TOKEN_PER_IP, ip))
        return claim


def credential_stamp(account: Account) -> str:
    """What a mailed reset or email-change token is bound to: the account's password and
    address as they were when it was sent. A reset, a password change or an email change
    moves the stamp, so every other link (and code) sent before it stops working. A digest, so
    the token's stored claim shows neither."""
    return digest(f"{account.password_hash or ''}\n{account.email_key}")


def _still_current(account: Account, stamp: str | None, refusal: DomainError) -> None:
    if stamp is None or not hmac.compare_digest(stamp, credential_stamp(account)):
        raise refusal


def already_verified() -> DomainError:
    return DomainError("email:already_verified", 400, "This email address is verified already.")


def account_of(session: orm.Session, user_id: str) -> Account:
    account = session.get(Account, user_id)
    if account is None:
        raise DomainError("user:not_found", 404, "No account has that id.")
    return account


def send_verification(session: orm.Session, room: Mailroom, account: Account) -> None:
    token = room.tokens.issue(VERIFICATION, {"user_id": account.id, "email": account.email})
    mail.queue(session, account.email, *mail.verification_mail(room.settings, token))


def verify_email(session: orm.Session, room: Mailroom, token: str, *, ip: str) -> Account:
    claim = room.redeem(VERIFICATION, token, ip=ip, refusal=DomainError(
        "token:invalid_verification", 400, "This verification link is invalid, used or expired."))
    account = account_of(session, claim["user_id"])
    if account.verified_at is not None:
        raise already_verified()
    if email_key(account.email) != email_key(claim["email"]):
        raise DomainError("token:email_mismatch", 400,
                          "The account's email changed after this link was sent.")
    account.verified_at = utcnow()
    emit(session, "user.email_verified", {"user_id": account.id})
    return account


def resend_verification(session: orm.Session, room: Mailroom, user_id: str) -> None:
    account = account_of(session, user_id)
    if account.verified_at is not None:
        raise already_verified()
    if account.password_hash is None:
        raise password_not_set()
    if room.throttle.take(MAIL_PER_ACCOUNT, account.id):
        send_verification(session, room, account)
        emit(session, "auth.verification_sent", {"user_id": account.id})


def forgot_password(session: orm.Session, room: Mailroom, email: str, *, ip: str) -> None:
    """Mail a reset link if such an account exists; the caller answers the same either way."""
    account = find_by_email(session, email)
    if account is None or account.password_hash is None:
        return
    if not room.throttle.take(MAIL_PER_ACCOUNT, account.id):
        return  # enough reset mails for this hour; the answer stays the same
    token = room.tokens.issue(PASSWORD_RESET, {"user_id": account.id,
                                               "stamp": credential_stamp(account)})
    mail.queue(session, account.email, *mail.reset_mail(room.settings, token))
    emit(session, "auth.password_reset_requested", {"user_id": account.id, "ip": ip})


def reset_password(session: orm.Session, room: Mailroom, sessions: SessionStore, token: str,
                   new_password: str, *, ip: str) -> None:
    """Set a new password from a reset link, and end every session of the account."""
    passwords.check_new_password(new_password)
    refusal = DomainError("token:invalid_reset", 400,
                          "This reset link is invalid, used or expired.")
    claim = room.redeem(PASSWORD_RESET, token, ip=ip, refusal=refusal)
    account = account_of(session, claim["user_id"])
    _still_current(account, claim.get("stamp"), refusal)
    account.password_hash = passwords.hash_password(new_password)
    ended = sessions.revoke_all(account.id)
    emit(session, "auth.password_reset", {"user_id": account.id, "ip": ip,
                                          "sessions_ended": ended})


def request_reset_code(session: orm.Session, room: Mailroom, account: Account | None,
                       userhash: str, *, ip: str) -> str:
    """Mail a reset code if there is such an account with a password; a request id comes back
    either way, so the answer tells nothing about the account."""
    if (account is None or account.password_hash is None
            or not room.throttle.take(MAIL_PER_ACCOUNT, account.id)):
        return new_request_id()
    request_id, code = room.reset_codes.issue(account.id, userhash, credential_stamp(account))
    mail.queue(session, account.email, *mail.reset_code_mail(code))
    emit(session, "auth.password_reset_requested", {"user_id": account.id, "ip": ip,
                                                    "by": "code"})
    return request_id


def invalid_reset_code() -> DomainError:
    return DomainError("token:invalid_reset_code", 401,
                       "The code, request id or userhash is wrong, or the code was used or "
                       "expired; ask for a new code.")


def reset_password_with_code(session: orm.Session, room: Mailroom, sessions: SessionStore,
                             request_id: str, userhash: str, code: str, new_password: str,
                             *, ip: str) -> None:
    """Set a new password with a mailed code, and end every session of the account."""
    passwords.check_new_password(new_password)
    request = room.reset_codes.find(request_id)
    if request is None:
        room.throttle.attempt((RESET_CODE.per_ip, ip))  # counted: a guess at a request id
        raise invalid_reset_code()
    checks = room.throttle.checks(RESET_CODE, request.user_id, device=None, ip=ip)
    if not room.throttle.attempt(*checks) or not request.matches(userhash, code):
        raise invalid_reset_code()
    if not room.reset_codes.spend(request):
        raise invalid_reset_code()
    room.throttle.proved(RESET_CODE, request.user_id, checks, device=None, ip=ip)
    account = account_of(session, request.user_id)
    _still_current(account, request.stamp, invalid_reset_code())
    account.password_hash = passwords.hash_password(new_password)
    ended = sessions.revoke_all(account.id)
    emit(session, "auth.password_reset", {"user_id": account.id, "ip": ip,
                                          "sessions_ended": ended})


def change_email(session: orm.Session, room: Mailroom, account: Account, password: str,
                 new_email: str, *, ip: str, record: SessionRecord) -> None:
    """Send a confirmation link to the new address; nothing changes until it is opened (then
    every session but `record`'s, the one that asked, ends). With TOTP on, only from a
    recently re-authenticated session: a stolen session and password are not enough."""
    require_verified(account)
    if account.totp_enabled_at is not None:
        require_recent_authentication(record)
    confirm_password(room.throttle, account, password, record)
    if email_key(new_email) == account.email_key:
        raise bad_request("New email must be different from current email.")
    if find_by_email(session, new_email) is not None:
        raise email_taken()
    if not room.throttle.take(MAIL_PER_ACCOUNT, account.id):
        return  # enough mails for this hour; the previous link still works
    token = room.tokens.issue(EMAIL_CHANGE, {"user_id": account.id, "new_email": new_email,
                                             "stamp": credential_stamp(account),
                                             "session_id": record.id})
    mail.queue(session, new_email, *mail.email_change_mail(room.settings, token))
    emit(session, "auth.email_change_requested", {"user_id": account.id, "ip": ip})


def confirm_email_change(session: orm.Session, room: Mailroom, sessions: SessionStore,
                         token: str, *, ip: str) -> None:
    """Move the account to the confirmed address. Every session but the one that asked for the
    change ends, and the old address is told, with a link to undo it."""
    refusal = DomainError("token:invalid_email_change", 400,
                          "This confirmation link is invalid, used or expired.")
    claim = room.redeem(EMAIL_CHANGE, token, ip=ip, refusal=refusal)
    account = account_of(session, claim["user_id"])
    _still_current(account, claim.get("stamp"), refusal)
    if find_by_email(session, claim["new_email"]) is not None:
        raise email_taken()
    old_email = account.email
    account.email, account.email_key = claim["new_email"], email_key(claim["new_email"])
    account.verified_at = utcnow()  # the link reached the new address: it is verified
    try:
        session.flush()  # two accounts confirming one address at once: the second loses here
    except sa.exc.IntegrityError:
        session.rollback()
        raise email_taken() from None
    report = room.tokens.issue(EMAIL_CHANGE_REPORT, {
        "user_id": account.id, "old_email": old_email, "new_email": account.email,
        "changed_at": time.time()})
    mail.queue(session, old_email,
               *mail.email_changed_mail(room.settings, account.email, report))
    ended = sessions.revoke_all(account.id, keep=claim.get("session_id"))
    emit(session, "user.email_changed", {"user_id": account.id, "ip": ip,
                                         "sessions_ended": ended})


def report_email_change(session: orm.Session, room: Mailroom, sessions: SessionStore,
                        two_factor: TwoFactor, token: str, *, ip: str) -> None:
    """The old address says the change was not its owner's: the account goes back to it,
    every session ends, and a second factor turned on since the change (the taker's) is
    removed (the link in the mail to the old address, valid for a week)."""
    refusal = DomainError("token:invalid_email_change_report", 400,
                          "This link is invalid, used or expired.")
    claim = room.redeem(EMAIL_CHANGE_REPORT, token, ip=ip, refusal=refusal)
    account = account_of(session, claim["user_id"])
    if account.email_key != email_key(claim["new_email"]):
        raise refusal  # the account has moved on since: the link undoes that change only
    holder = find_by_email(session, claim["old_email"])
    if holder is not None and holder.id != account.id:
        raise email_taken()
    account.email, account.email_key = claim["old_email"], email_key(claim["old_email"])
    account.verified_at = utcnow()  # the report came through the old address's mailbox
    try:
        session.flush()  # someone took the old address a moment ago
    except sa.exc.IntegrityError:
        session.rollback()
        raise email_taken() from None
    if (account.totp_enabled_at is not None
            and as_utc(account.totp_enabled_at).timestamp() >= claim["changed_at"]):
        two_factor.forget(session, account, ip=ip)
    ended = sessions.revoke_all(account.id)
    emit(session, "auth.email_change_reported", {"user_id": account.id, "ip": ip,
                                                 "sessions_ended": ended})
