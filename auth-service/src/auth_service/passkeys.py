"""Passkeys (WebAuthn): registering them, signing in with them, keeping them.

py_webauthn runs the ceremonies (options, attestation and assertion checks); what is ours:

* **Challenges** are single-use tokens (`tokens.PASSKEY_CHALLENGE`, five minutes). The browser
  signs the challenge and its answer carries it back (in the client data), so an answer finds
  its own ceremony and spends it whatever the outcome: a replayed answer finds nothing. Each
  challenge is bound to the browser that asked for it (its `anonymous_user_id`), and a
  registration's to the session too.
* **How a passkey counts.** Alone (username-less, or picked from the browser's autofill) a
  passkey is the first factor. When the authenticator verified the user (a PIN, a fingerprint)
  it is the second as well, and the session opens even with TOTP on: the `UV` flag is
  possession plus a PIN or biometric. Without that flag an account with TOTP on still owes a
  code, as after a password. As the second step of a password login (TOTP on), a passkey of
  the account stands in for the code.
* **Counters and backup flags** (WebAuthn §6.1.3): a counter that does not move forward (when
  either side is non-zero) refuses the sign-in as a possible clone; a passkey registered as
  backup-eligible must stay so, and whether it is backed up now is kept.
* A passkey is a way to sign in: the last way in (no password, no provider) is never removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.exc import IntegrityError
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    options_to_json_dict,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from auth_service import errors, mail
from auth_service.accounts import account_of, can_sign_in, require_verified
from auth_service.authentication import (
    Authenticator,
    SecondFactorRequired,
    SignedIn,
    require_recent_authentication,
)
from auth_service.models import CREDENTIAL_ID_MAX_LENGTH, Account, Passkey
from auth_service.tokens import PASSKEY_CHALLENGE, TokenStore
from tessera_shared.clock import utcnow
from tessera_shared.config import PasskeySettings
from tessera_shared.errors import DomainError, ErrorId, bad_request
from tessera_shared.ids import uuid7
from tessera_shared.outbox import emit
from tessera_shared.sessions import Client, SessionRecord
from tessera_shared.throttle import PASSKEY, PASSKEY_CEREMONIES_PER_IP, Throttle
from tessera_shared.transactions import unit_of_work

RP_NAME = "Tessera"
MAX_PER_ACCOUNT = 20
# py_webauthn's parsers let through whatever malformed bytes provoke beside its own errors
# (ValueError from base64, JSON and CBOR, TypeError, KeyError, IndexError from a short COSE
# key, RecursionError from deeply nested client data...): an answer that cannot be read or
# verified is refused, whatever the reason. The calls touch no database.
_MALFORMED = Exception

Purpose = Literal["register", "sign_in", "second_factor"]
# First steps a passkey cannot be the second factor of: a passkey (one security key is one
# factor), and a step whose kind its token does not say.
NOT_SECOND_TO = {"passkey", "unknown"}
_Credential = TypeVar("_Credential", RegistrationCredential, AuthenticationCredential)


@dataclass(frozen=True)
class PasskeyLogin:
    answer: dict[str, Any]  # the browser's PublicKeyCredential, as its toJSON() gives it
    remember_me: bool = False
    temp_token: str | None = None  # a password login's, when the passkey is its second step


@dataclass(frozen=True)
class Ceremony:
    """What a challenge was issued for, as kept with it until its answer spends it."""

    challenge: bytes
    purpose: Purpose
    browser: str
    user_id: str | None = None
    session_id: str | None = None


class Passkeys:
    """The passkey use cases, bound once in `create_app`; each public method is one use case
    (and one unit of work where it writes)."""

    def __init__(self, session: orm.scoped_session, settings: PasskeySettings,
                 tokens: TokenStore, throttle: Throttle, authenticator: Authenticator) -> None:
        self.session = session
        self.settings = settings
        self.tokens = tokens
        self.throttle = throttle
        self.authenticator = authenticator

    # --- registering -----------------------------------------------------------------------

    def registration_options(self, record: SessionRecord, *, browser: str, ip: str
                             ) -> dict[str, Any]:
        """Options for `navigator.credentials.create`: a discoverable credential for this
        account (one per authenticator), from a session that signed in recently."""
        require_recent_authentication(record)
        account = account_of(self.session, record.user_id)
        require_verified(account)  # a passkey must not guard an address someone squatted
        mine = self.of(account.id)
        if len(mine) >= MAX_PER_ACCOUNT:
            raise errors.PASSKEY_LIMIT()
        challenge = self._challenge("register", browser, ip, user_id=account.id,
                                    session_id=record.id)
        return options_to_json_dict(generate_registration_options(
            rp_id=self.settings.rp_id, rp_name=RP_NAME, user_name=account.email,
            user_id=account.id.encode(), user_display_name=account.email, challenge=challenge,
            timeout=PASSKEY_CHALLENGE.lifetime * 1000,
            attestation=AttestationConveyancePreference.NONE,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.PREFERRED),
            exclude_credentials=_descriptors(mine)))

    def register(self, record: SessionRecord, answer: dict[str, Any], name: str | None, *,
                 browser: str, ip: str) -> Passkey:
        """Verify the authenticator's answer to `registration_options` and keep its passkey;
        the owner is told by mail."""
        require_recent_authentication(record)
        credential = _parsed(parse_registration_credential_json, answer)
        ceremony = self._ceremony(credential.response.client_data_json, browser, ip=ip)
        if (ceremony.purpose != "register" or ceremony.user_id != record.user_id
                or ceremony.session_id != record.id):
            raise errors.INVALID_CHALLENGE()
        try:
            verified = verify_registration_response(
                credential=credential, expected_challenge=ceremony.challenge,
                expected_rp_id=self.settings.rp_id, expected_origin=list(self.settings.origins))
        except _MALFORMED as error:
            raise errors.INVALID_ATTESTATION() from error
        if len(verified.credential_id) > CREDENTIAL_ID_MAX_LENGTH:
            raise errors.INVALID_ATTESTATION()
        with unit_of_work(self.session):
            account = _locked(self.session, record.user_id)
            count = len(self.of(account.id))
            if count >= MAX_PER_ACCOUNT:
                raise errors.PASSKEY_LIMIT()
            passkey = Passkey(
                id=str(uuid7()), account_id=account.id, credential_id=verified.credential_id,
                public_key=verified.credential_public_key, sign_count=verified.sign_count,
                backup_eligible=verified.credential_device_type
                == CredentialDeviceType.MULTI_DEVICE,
                backed_up=verified.credential_backed_up,
                transports=",".join(sorted({t.value for t in credential.response.transports
                                            or ()})),
                aaguid=verified.aaguid, name=name or f"Passkey {count + 1}",
                created_at=utcnow())
            self.session.add(passkey)
            try:
                self.session.flush()
            except IntegrityError:
                raise errors.PASSKEY_REGISTERED() from None
            emit(self.session, "auth.passkey_added", {
                "user_id": account.id, "passkey_id": passkey.id, "name": passkey.name,
                "ip": ip})
            mail.queue(self.session, account.email, *mail.passkey_mail(passkey.name, ip,
                                                                      added=True))
        return passkey

    # --- keeping them ---------------------------------------------------------------------

    def of(self, user_id: str) -> list[Passkey]:
        """The account's passkeys, oldest first."""
        return list(self.session.scalars(sa.select(Passkey).where(
            Passkey.account_id == user_id).order_by(Passkey.created_at, Passkey.id)))

    def rename(self, user_id: str, passkey_id: str, name: str) -> Passkey:
        with unit_of_work(self.session):
            passkey = self._mine(user_id, passkey_id)
            passkey.name = name
        return passkey

    def remove(self, record: SessionRecord, passkey_id: str, *, ip: str) -> None:
        """Remove a passkey of the signed-in account (a session that signed in recently
        only), unless it is the last way in; the owner is told by mail."""
        require_recent_authentication(record)
        with unit_of_work(self.session):
            # Locked, so two removals at once cannot both leave the other as the last way in.
            account = _locked(self.session, record.user_id)
            passkey = self._mine(account.id, passkey_id)
            self.session.delete(passkey)
            self.session.flush()
            if not can_sign_in(self.session, account):
                raise errors.LAST_PASSKEY()
            emit(self.session, "auth.passkey_removed", {
                "user_id": account.id, "passkey_id": passkey.id, "name": passkey.name,
                "ip": ip})
            mail.queue(self.session, account.email, *mail.passkey_mail(passkey.name, ip,
                                                                      added=False))

    # --- signing in -----------------------------------------------------------------------

    def sign_in_options(self, *, browser: str, ip: str, temp_token: str | None = None
                        ) -> dict[str, Any]:
        """Options for `navigator.credentials.get`: any passkey of this site (username-less,
        or the browser's autofill), or, with the temp token of a password login that owes a
        second factor, one of that account's."""
        if temp_token is None:
            challenge = self._challenge("sign_in", browser, ip)
            allowed: list[PublicKeyCredentialDescriptor] = []
        else:
            pending = self.authenticator.two_factor.peek_login(temp_token)
            if pending is None:
                raise errors.TEMP_TOKEN_INVALID()
            if pending.first_factor in NOT_SECOND_TO:
                raise errors.PASSKEY_ALREADY_USED()
            allowed = _descriptors(self.of(pending.user_id))
            if not allowed:
                raise errors.NO_PASSKEYS()
            challenge = self._challenge("second_factor", browser, ip, user_id=pending.user_id)
        return options_to_json_dict(generate_authentication_options(
            rp_id=self.settings.rp_id, challenge=challenge,
            timeout=PASSKEY_CHALLENGE.lifetime * 1000, allow_credentials=allowed,
            user_verification=UserVerificationRequirement.PREFERRED))

    def sign_in(self, login: PasskeyLogin, client: Client, *, browser: str,
                replacing: str | None = None) -> SignedIn | SecondFactorRequired:
        """Verify the authenticator's answer to `sign_in_options`: a session, or, for a
        passkey without user verification on an account with TOTP on, the temp token
        `/totp/verify` takes with a code. `replacing`: the session the client held, ended."""
        # A second step is spent first, whatever the answer is worth, as by a code at
        # /totp/verify.
        pending = (self.authenticator.two_factor.pending_login(login.temp_token, ip=client.ip)
                   if login.temp_token else None)
        if pending is not None and pending.first_factor in NOT_SECOND_TO:
            raise errors.PASSKEY_ALREADY_USED()
        credential = _parsed(parse_authentication_credential_json, login.answer)
        ceremony = self._ceremony(credential.response.client_data_json, browser, ip=client.ip)
        if ceremony.purpose == "register" or (ceremony.purpose == "second_factor") != bool(
                pending):
            raise errors.INVALID_CHALLENGE()
        with unit_of_work(self.session):
            passkey = self.session.scalar(sa.select(Passkey).where(
                Passkey.credential_id == credential.raw_id))
            if passkey is None or ceremony.user_id not in (None, passkey.account_id):
                self.authenticator.record_failed_login(None, client, step="passkey")
                raise errors.UNKNOWN_PASSKEY()
            account = account_of(self.session, passkey.account_id)
            if pending is not None:
                if pending.user_id != account.id:
                    raise errors.TEMP_TOKEN_INVALID()
                self._verify(account, passkey, credential, ceremony, client)
                self.authenticator.end_replaced(replacing)
                return self.authenticator.open_session(
                    account, client, remember_me=pending.remember_me,
                    method=f"{pending.first_factor}+passkey")
            if self._verify(account, passkey, credential, ceremony, client):
                self.authenticator.end_replaced(replacing)
                return self.authenticator.open_session(
                    account, client, remember_me=login.remember_me, method="passkey")
            return self.authenticator.after_first_factor(
                account, client, method="passkey", remember_me=login.remember_me,
                replacing=replacing)

    # --- internals -----------------------------------------------------------------------

    def _challenge(self, purpose: Purpose, browser: str, ip: str, **bound: str) -> bytes:
        """A new challenge for `purpose` in this browser; the token is the challenge (256
        random bits, its text the bytes signed)."""
        if not self.throttle.take(PASSKEY_CEREMONIES_PER_IP, ip):
            raise errors.TOO_MANY_CEREMONIES()
        return self.tokens.issue(PASSKEY_CHALLENGE, {
            "purpose": purpose, "browser": browser, **bound}).encode()

    def _ceremony(self, client_data_json: bytes, browser: str, *, ip: str) -> Ceremony:
        """The ceremony an answer's client data names, spent now, if this browser began it."""
        try:
            challenge = parse_client_data_json(client_data_json).challenge
            token = challenge.decode("ascii")
        except _MALFORMED as error:
            raise bad_request("credential.response.clientDataJSON is not client data a "
                              "browser writes (base64url of its JSON).") from error
        payload = self.tokens.redeem(PASSKEY_CHALLENGE, token, ip=ip)
        if payload is None or payload.get("browser") != browser:
            raise errors.INVALID_CHALLENGE()
        return Ceremony(challenge, payload["purpose"], payload["browser"],
                        payload.get("user_id"), payload.get("session_id"))

    def _verify(self, account: Account, passkey: Passkey, credential: AuthenticationCredential,
                ceremony: Ceremony, client: Client) -> bool:
        """Check the assertion against the stored passkey and move its counter on (one
        UPDATE decides a race); whether the user was verified. Throttled per account and
        address like any credential; a failure is recorded as a failed login."""
        checks = self.throttle.checks(PASSKEY, account.id, device=client.device, ip=client.ip)

        def refuse(refusal: ErrorId, reason: str) -> DomainError:
            self.authenticator.record_failed_login(account.id, client, step="passkey",
                                                   reason=reason)
            return refusal()

        if not self.throttle.attempt(*checks):
            raise refuse(errors.INVALID_ASSERTION, "throttled")
        # Without an account named beforehand, the authenticator must say whose passkey it is
        # (WebAuthn §7.2), and it must be the owner's.
        handle = credential.response.user_handle
        if (handle is None and ceremony.user_id is None) or (
                handle is not None and handle != account.id.encode()):
            raise refuse(errors.INVALID_ASSERTION, "user_handle")
        try:
            # The counter is checked below, where a clone can be told from a bad signature.
            verified = verify_authentication_response(
                credential=credential, expected_challenge=ceremony.challenge,
                expected_rp_id=self.settings.rp_id, expected_origin=list(self.settings.origins),
                credential_public_key=passkey.public_key, credential_current_sign_count=0)
        except _MALFORMED:
            raise refuse(errors.INVALID_ASSERTION, "signature") from None
        eligible = verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
        if eligible != passkey.backup_eligible:
            raise refuse(errors.INVALID_ASSERTION, "backup_eligibility")
        count = verified.new_sign_count
        moved = (Passkey.sign_count < count if count or passkey.sign_count
                 else Passkey.sign_count == 0)
        if not self.session.execute(sa.update(Passkey).where(Passkey.id == passkey.id, moved)
                                    .values(sign_count=count, last_used_at=utcnow(),
                                            backed_up=verified.credential_backed_up)).rowcount:
            raise refuse(errors.SIGN_COUNT_REGRESSED, "sign_count")
        self.throttle.proved(PASSKEY, account.id, checks, device=client.device, ip=client.ip)
        emit(self.session, "auth.passkey_used", {
            "user_id": account.id, "passkey_id": passkey.id, "name": passkey.name,
            "ip": client.ip, "user_verified": verified.user_verified})
        return verified.user_verified

    def _mine(self, user_id: str, passkey_id: str) -> Passkey:
        passkey = self.session.get(Passkey, passkey_id)
        if passkey is None or passkey.account_id != user_id:
            raise errors.PASSKEY_NOT_FOUND()
        return passkey


def remove_added_since(session: orm.Session | orm.scoped_session, account: Account,
                       moment: datetime, *, ip: str) -> None:
    """Remove the passkeys added to `account` at `moment` or later (someone who took the
    account then added them); part of the caller's unit of work."""
    for passkey in session.scalars(sa.select(Passkey).where(
            Passkey.account_id == account.id, Passkey.created_at >= moment)):
        session.delete(passkey)
        emit(session, "auth.passkey_removed", {"user_id": account.id, "passkey_id": passkey.id,
                                                "name": passkey.name, "ip": ip})


def _locked(session: orm.scoped_session, user_id: str) -> Account:
    account = session.scalar(sa.select(Account).where(Account.id == user_id).with_for_update())
    if account is None:
        raise errors.ACCOUNT_NOT_FOUND()
    return account


def _descriptors(passkeys: Iterable[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(
        id=passkey.credential_id,
        transports=[AuthenticatorTransport(t) for t in passkey.transports.split(",")
                    if t in _TRANSPORTS] or None)
        for passkey in passkeys]


_TRANSPORTS = {transport.value for transport in AuthenticatorTransport}


def _parsed(parse: Callable[[dict[str, Any]], _Credential],
            answer: dict[str, Any]) -> _Credential:
    try:
        return parse(answer)
    except _MALFORMED as error:
        raise bad_request(f"credential is not a public-key credential as the browser gives "
                          f"it ({error}).") from error
