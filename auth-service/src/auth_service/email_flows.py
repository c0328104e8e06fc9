"""The flows that go through a mailbox: verifying an address, resetting a forgotten password
(by a link, or by a code for the users API), moving an account to a new address. Each issues a
single-use token or code and queues a mail with it; the mail is sent only if the request's
transaction commits."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from auth_service import errors, mail, passkeys, passwords
from auth_service.accounts import find_by_email, require_verified
from auth_service.authentication import (
    Authenticator,
    account_of,
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
from tessera_shared.clients.profiles import Profiles
from tessera_shared.clock import as_utc, utcnow
from tessera_shared.config import Settings
from tessera_shared.errors import DomainError, bad_request
from tessera_shared.ids import digest
from tessera_shared.outbox import emit
from tessera_shared.sessions import SessionRecord
from tessera_shared.throttle import (
    MAIL_PER_ACCOUNT,
    MAIL_REQUESTS_PER_IP,
    RESET_CODE,
)
from tessera_shared.transactions import after_commit, unit_of_work


def credential_stamp(account: Account) -> str:
    """What a mailed reset or email-change token is bound to: the account's password and
    address as they were when it was sent. A reset, a password change or an email change
    moves the stamp, so every other link (and code) sent before it stops working. A digest, so
    the token's stored claim shows neither."""
    return digest(f"{account.password_hash or ''}\n{account.email_key}")


def _still_current(account: Account, stamp: str | None, refusal: DomainError) -> None:
    if stamp is None or not hmac.compare_digest(stamp, credential_stamp(account)):
        raise refusal


class EmailFlows:
    """The flows that go through a mailbox, bound once in `create_app`. Each public method is
    one use case and one unit of work."""

    def __init__(self, settings: Settings, tokens: TokenStore, reset_codes: ResetCodes,
                 authenticator: Authenticator, profiles: Profiles) -> None:
        self.settings = settings
        self.tokens = tokens
        self.reset_codes = reset_codes
        self.authenticator = authenticator
        self.profiles = profiles
        # The authenticator's database session, sessions and throttle are these flows' too.
        self.session = authenticator.session
        self.sessions = authenticator.sessions
        self.throttle = authenticator.throttle

    def redeem(self, kind: Kind, token: str, *, ip: str, refusal: DomainError) -> dict[str, Any]:
        """A token's claim, or `refusal` (also while this address is throttled)."""
        claim = self.tokens.redeem(kind, token, ip=ip)
        if claim is None:
            raise refusal
        return claim

    def send_verification(self, account: Account) -> None:
        token = self.tokens.issue(VERIFICATION, {"user_id": account.id, "email": account.email})
        mail.queue(self.session, account.email, *mail.verification_mail(self.settings, token))

    def verify_email(self, token: str, *, ip: str) -> Account:
        with unit_of_work(self.session):
            claim = self.redeem(VERIFICATION, token, ip=ip,
                                refusal=errors.INVALID_VERIFICATION())
            account = account_of(self.session, claim["user_id"])
            if account.verified_at is not None:
                raise errors.ALREADY_VERIFIED()
            if email_key(account.email) != email_key(claim["email"]):
                raise errors.EMAIL_MISMATCH()
            self._verified(account)
            emit(self.session, "user.email_verified", {"user_id": account.id})
            return account

    def resend_verification(self, user_id: str) -> None:
        with unit_of_work(self.session):
            account = account_of(self.session, user_id)
            if account.verified_at is not None:
                raise errors.ALREADY_VERIFIED()
            if account.password_hash is None:
                raise errors.PASSWORD_NOT_SET()
            if self.throttle.take(MAIL_PER_ACCOUNT, account.id):
                self.send_verification(account)
                emit(self.session, "auth.verification_sent", {"user_id": account.id})

    def forgot_password(self, email: str, *, ip: str,
                        compose: Callable[[Settings, str], tuple[str, str]] = mail.reset_mail
                        ) -> None:
        """Mail a reset link (`compose` writes the mail around the token) if such an account
        exists; the caller answers the same either way. An account that signs in through a
        provider only gets one too: the link sets its first password (the original API
        ignored such accounts)."""
        with unit_of_work(self.session):
            account = find_by_email(self.session, email)
            if account is None or not self._may_mail(account, ip):
                return  # the answer stays the same
            token = self.tokens.issue(PASSWORD_RESET, {"user_id": account.id,
                                                       "stamp": credential_stamp(account)})
            mail.queue(self.session, account.email, *compose(self.settings, token))
            emit(self.session, "auth.password_reset_requested",
                 {"user_id": account.id, "ip": ip})

    def reset_password(self, token: str, new_password: str, *, ip: str) -> None:
        """Set a new password from a reset link, and end every session of the account."""
        self._reset_by_token(token, new_password, ip=ip, refusal=errors.INVALID_RESET(),
                             field="new_password")

    def reset_password_by_id(self, token: str, new_password: str, *, ip: str) -> None:
        """The user API's reset with the mailed id: as `reset_password`, but an id that ran
        out unspent says so, as that API's document has it."""
        try:
            self._reset_by_token(token, new_password, ip=ip,
                                 refusal=errors.RESET_ID_NOT_FOUND(), field="newPassword")
        except DomainError as refused:
            if (refused.code == errors.RESET_ID_NOT_FOUND.code
                    and self.tokens.expired(PASSWORD_RESET, token)):
                raise errors.RESET_ID_EXPIRED() from None
            raise

    def _reset_by_token(self, token: str, new_password: str, *, ip: str,
                        refusal: DomainError, field: str) -> None:
        """`refusal`: what a token that is no good is answered with; `field`: the request's
        name for the new password, which a weak one is refused by."""
        passwords.check_new_password(new_password, field=field)
        with unit_of_work(self.session):
            claim = self.redeem(PASSWORD_RESET, token, ip=ip, refusal=refusal)
            account = account_of(self.session, claim["user_id"])
            _still_current(account, claim.get("stamp"), refusal)
            self._reset(account, new_password, ip=ip)

    def request_reset_code(self, account: Account, userhash: str, *, ip: str) -> str:
        """Mail a reset code if the account has a password and its mail budget allows; a
        request id comes back either way, so a throttled ask looks like any other."""
        with unit_of_work(self.session):
            if account.password_hash is None or not self._may_mail(account, ip):
                return new_request_id()
            request_id, code = self.reset_codes.issue(account.id, userhash,
                                                      credential_stamp(account))
            mail.queue(self.session, account.email, *mail.reset_code_mail(code))
            emit(self.session, "auth.password_reset_requested",
                 {"user_id": account.id, "ip": ip, "by": "code"})
            return request_id

    def reset_password_with_code(self, request_id: str, userhash: str, code: str,
                                 new_password: str, *, ip: str) -> None:
        """Set a new password with a mailed code, and end every session of the account."""
        with unit_of_work(self.session):
            passwords.check_new_password(new_password)
            request = self.reset_codes.find(request_id)
            if request is None:
                self.throttle.attempt((RESET_CODE.per_ip, ip))  # counted: a guess at a request id
                raise errors.INVALID_RESET_CODE()
            checks = self.throttle.checks(RESET_CODE, request.user_id, device=None, ip=ip)
            if not self.throttle.attempt(*checks) or not request.matches(userhash, code):
                raise errors.INVALID_RESET_CODE()
            if not self.reset_codes.spend(request):
                raise errors.INVALID_RESET_CODE()
            self.throttle.proved(RESET_CODE, request.user_id, checks, device=None, ip=ip)
            account = account_of(self.session, request.user_id)
            _still_current(account, request.stamp, errors.INVALID_RESET_CODE())
            self._reset(account, new_password, ip=ip)

    def change_email(self, record: SessionRecord, password: str, new_email: str, *,
                     ip: str) -> None:
        """Send a confirmation link to the new address; nothing changes until it is opened
        (then every session but `record`'s, the one that asked, ends). With TOTP on, only from
        a recently re-authenticated session: a stolen session and password are not enough."""
        with unit_of_work(self.session):
            account = account_of(self.session, record.user_id)
            require_verified(account)
            if account.totp_enabled_at is not None:
                require_recent_authentication(record)
            self.authenticator.confirm_password(account, password, record)
            if email_key(new_email) == account.email_key:
                raise bad_request("New email must be different from current email.")
            if find_by_email(self.session, new_email) is not None:
                raise errors.EMAIL_TAKEN()
            if not self.throttle.take(MAIL_PER_ACCOUNT, account.id):
                return  # enough mails for this hour; the previous link still works
            token = self.tokens.issue(EMAIL_CHANGE, {
                "user_id": account.id, "new_email": new_email,
                "stamp": credential_stamp(account), "session_id": record.id})
            mail.queue(self.session, new_email, *mail.email_change_mail(self.settings, token))
            emit(self.session, "auth.email_change_requested", {"user_id": account.id, "ip": ip})

    def confirm_email_change(self, token: str, *, ip: str) -> None:
        """Move the account to the confirmed address. Every session but the one that asked for
        the change ends, and the old address is told, with a link to undo it."""
        with unit_of_work(self.session):
            refusal = errors.INVALID_EMAIL_CHANGE()
            claim = self.redeem(EMAIL_CHANGE, token, ip=ip, refusal=refusal)
            account = account_of(self.session, claim["user_id"])
            _still_current(account, claim.get("stamp"), refusal)
            if find_by_email(self.session, claim["new_email"]) is not None:
                raise errors.EMAIL_TAKEN()
            old_email = account.email
            self._move(account, claim["new_email"])  # the link reached it: it is verified
            report = self.tokens.issue(EMAIL_CHANGE_REPORT, {
                "user_id": account.id, "old_email": old_email, "new_email": account.email,
                "changed_at": time.time()})
            mail.queue(self.session, old_email,
                       *mail.email_changed_mail(self.settings, account.email, report))
            ended = self.sessions.revoke_all(account.id, keep=claim.get("session_id"))
            emit(self.session, "user.email_changed",
                 {"user_id": account.id, "ip": ip, "sessions_ended": ended})

    def report_email_change(self, token: str, *, ip: str) -> None:
        """The old address says the change was not its owner's: the account goes back to it,
        every session ends, and a second factor turned on and passkeys added since the change
        (the taker's) are removed (the link in the mail to the old address, valid for a week)."""
        with unit_of_work(self.session):
            refusal = errors.INVALID_EMAIL_CHANGE_REPORT()
            claim = self.redeem(EMAIL_CHANGE_REPORT, token, ip=ip, refusal=refusal)
            account = account_of(self.session, claim["user_id"])
            if account.email_key != email_key(claim["new_email"]):
                raise refusal  # the account has moved on since: the link undoes that change only
            holder = find_by_email(self.session, claim["old_email"])
            if holder is not None and holder.id != account.id:
                raise errors.EMAIL_TAKEN()
            self._move(account, claim["old_email"])  # the report came through its mailbox
            if (account.totp_enabled_at is not None
                    and as_utc(account.totp_enabled_at).timestamp() >= claim["changed_at"]):
                self.authenticator.two_factor.forget(account, ip=ip)
            passkeys.remove_added_since(
                self.session, account, datetime.fromtimestamp(claim["changed_at"], UTC), ip=ip)
            ended = self.sessions.revoke_all(account.id)
            emit(self.session, "auth.email_change_reported",
                 {"user_id": account.id, "ip": ip, "sessions_ended": ended})

    def _may_mail(self, account: Account, ip: str) -> bool:
        """Whether a mail someone asked for without signing in may go out: within the
        account's budget for the hour, and the asking address's."""
        return (self.throttle.take(MAIL_REQUESTS_PER_IP, ip)
                and self.throttle.take(MAIL_PER_ACCOUNT, account.id))

    def _reset(self, account: Account, new_password: str, *, ip: str) -> None:
        """A forgotten password replaced, by link or by code: every session of it ends."""
        account.password_hash = passwords.hash_password(new_password)
        ended = self.sessions.revoke_all(account.id)
        emit(self.session, "auth.password_reset",
             {"user_id": account.id, "ip": ip, "sessions_ended": ended})

    def _move(self, account: Account, address: str) -> None:
        """Put the account at `address`, proven by a mailed link; two accounts taking one
        address at once: the second loses here."""
        account.email, account.email_key = address, email_key(address)
        self._verified(account)
        try:
            self.session.flush()
        except sa.exc.IntegrityError:
            raise errors.EMAIL_TAKEN() from None

    def _verified(self, account: Account) -> None:
        """The account's address is proven. Its profile shows it once this commits: told at
        once, so the client's next read sees it (the event stream tells it too, in case
        user-service cannot be reached now)."""
        account.verified_at = utcnow()
        user_id = account.id
        after_commit(self.session, lambda: self.profiles.mark_verified(user_id))
