"""Social sign-in (Kratos' "oidc strategy"): signing in, signing up, linking and unlinking
with an identity provider's account.

A flow starts at `authorize`, which keeps a single-use state for 300 s, bound to the provider,
the purpose (`login` or `link`) and the browser's `anonymous_user_id`; the provider sends the
browser back with a code, and `log_in` or `link` spends the state with it. A new identity is
not an account yet: `log_in` keeps a pending sign-up for 10 minutes, bound to the same
browser, and `complete_sign_up` makes the account with the handle the person picks. An
identity whose email belongs to a local account is refused, never linked silently: whoever
holds a provider account with someone's address must not get into that person's account.
"""

from __future__ import annotations

import base64
import enum
import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from auth_service import errors, mail
from auth_service.accounts import Accounts, SignUp, account_of, can_sign_in, find_by_email
from auth_service.authentication import (
    Authenticator,
    SecondFactorRequired,
    SignedIn,
    require_recent_authentication,
)
from auth_service.models import Account, Connection
from auth_service.tokens import OAUTH_PENDING, OAUTH_STATE, TokenStore
from tessera_shared.errors import UNAUTHORIZED, DomainError, bad_request
from tessera_shared.outbox import emit
from tessera_shared.sessions import Client, SessionRecord
from tessera_shared.throttle import OAUTH_ATTEMPTS_PER_IP
from tessera_shared.transactions import after_commit, unit_of_work

if TYPE_CHECKING:  # the providers bring authlib and requests: imported only when configured
    from auth_service.providers import Provider

log = logging.getLogger(__name__)



class Label(enum.Enum):
    """The providers as the wire names them: the original's enum names, by provider name."""

    Google = "google"
    Github = "github"


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: its id for them and their verified email."""

    provider: str  # "google" or "github"
    subject: str
    email: str
    display_name: str
    avatar_url: str | None


@dataclass(frozen=True)
class Attempt:
    """What the sign-in keeps while the browser is at the provider (inside the state)."""

    code_verifier: str
    nonce: str | None


class Flow(enum.Enum):
    LOGIN = "login"
    LINK = "link"


@dataclass(frozen=True)
class Callback:
    """What the provider sent the browser back with, and which browser it came to."""

    code: str
    state: str
    browser: str


@dataclass(frozen=True)
class PendingSignUp:
    token: str
    email: str
    display_name: str


@dataclass(frozen=True)
class Linked:
    provider: Label
    created_at: datetime


class SocialSignIn:
    """The social sign-in use cases, bound once in `create_app` with the providers this
    platform has client ids for. Each public method is one use case (and at most one unit of
    work); the providers are called outside any transaction."""

    def __init__(self, providers: dict[str, Provider], tokens: TokenStore, accounts: Accounts,
                 authenticator: Authenticator) -> None:
        self.providers = providers
        self.tokens = tokens
        self.accounts = accounts
        self.authenticator = authenticator
        # The accounts' database session and profiles client are these use cases' too.
        self.session = accounts.session
        self.profiles = accounts.profiles

    def enabled(self) -> list[str]:
        """The providers this platform signs in with."""
        return sorted(self.providers)

    def authorize(self, name: str, flow: Flow, *, browser: str, ip: str,
                  linking: SessionRecord | None) -> str:
        """The provider's consent URL for a new attempt by this browser; an attempt to link
        is also bound to the account `linking` signed in to (it takes a session)."""
        provider = self._provider(name)
        if flow is Flow.LINK and linking is None:
            raise UNAUTHORIZED("Sign in first: a provider is linked to the signed-in account.")
        if not self.authenticator.throttle.take(OAUTH_ATTEMPTS_PER_IP, ip):
            raise errors.TOO_MANY_ATTEMPTS()
        attempt = provider.new_attempt()
        state = self.tokens.issue(OAUTH_STATE, {
            "provider": name, "flow": flow.value, "browser": browser,
            "user_id": linking.user_id if flow is Flow.LINK and linking else None,
            **asdict(attempt)})
        return provider.authorization_url(state, attempt)

    def log_in(self, name: str, callback: Callback, client: Client, *,
               replacing: str | None) -> SignedIn | SecondFactorRequired | PendingSignUp:
        """Finish a `login` attempt: the linked account signs in (with its second factor, if
        it has one); a new identity gets a pending sign-up."""
        identity = self._identity(name, Flow.LOGIN, callback, ip=client.ip)
        with unit_of_work(self.session):
            account = self._linked_account(identity)
            if account is not None:
                return self.authenticator.after_first_factor(
                    account, client, method=name, remember_me=True, replacing=replacing)
            if find_by_email(self.session, identity.email) is not None:
                raise errors.OAUTH_EMAIL_TAKEN()
        token = self.tokens.issue(OAUTH_PENDING, {**asdict(identity),
                                                  "browser": callback.browser})
        return PendingSignUp(token, identity.email, identity.display_name)

    def complete_sign_up(self, token: str, handle: str, client: Client, *, browser: str,
                         replacing: str | None) -> SignedIn:
        """Make the account of a pending sign-up, with no password, a verified address, the
        provider linked and the provider's picture as its image; the pending sign-up is spent
        only if this succeeds, and one completion runs at a time."""
        identity = self._pending(token, browser)
        lock = self.tokens.lock(OAUTH_PENDING, token)
        if not lock.acquire(blocking=False):
            raise bad_request("OAuth signup is already in progress. Please retry shortly.")
        try:
            self._pending(token, browser)  # the one that held the lock may have spent it
            with unit_of_work(self.session):
                if self._linked_account(identity) is not None:
                    raise errors.ALREADY_LINKED()
                if find_by_email(self.session, identity.email) is not None:
                    raise errors.OAUTH_EMAIL_TAKEN()
                account = self._sign_up(identity, handle, client)
                self.authenticator.end_replaced(replacing)
                signed_in = self.authenticator.open_session(
                    account, client, remember_me=True, method=identity.provider)
                after_commit(self.session, lambda: self.tokens.discard(OAUTH_PENDING, token))
        finally:
            lock.release()
        self._adopt_avatar(account.id, identity)
        return signed_in

    def link(self, record: SessionRecord, name: str, callback: Callback, *, ip: str) -> None:
        """Finish a `link` attempt: the identity becomes a way into the signed-in account. A
        session that signed in recently only: a stolen cookie must not add its thief's way
        in."""
        require_recent_authentication(record)
        identity = self._identity(name, Flow.LINK, callback, ip=ip, user_id=record.user_id)
        with unit_of_work(self.session):
            account = account_of(self.session, record.user_id)
            # Linked to anyone already, or this account has that provider: a key says which.
            self._connect(account, identity, ip=ip)
            mail.queue(self.session, account.email,
                       *mail.sign_in_provider_mail(Label(name).name, ip, linked=True))

    def connections(self, user_id: str) -> list[Linked]:
        return [Linked(Label(connection.provider), connection.created_at)
                for connection in self._connections_of(user_id)]

    def unlink(self, record: SessionRecord, label: Label, *, ip: str) -> None:
        """Remove a provider from the signed-in account, unless it is the last way in (a
        session that signed in recently only, as for linking)."""
        require_recent_authentication(record)
        with unit_of_work(self.session):
            # Locked, so two unlinks at once cannot both leave the other as the last way in.
            account = self.session.scalar(sa.select(Account).where(
                Account.id == record.user_id).with_for_update())
            if account is None:
                raise errors.ACCOUNT_NOT_FOUND()
            removed = self.session.execute(sa.delete(Connection).where(
                Connection.account_id == account.id,
                Connection.provider == label.value)).rowcount
            if not removed:
                raise errors.CONNECTION_NOT_FOUND()
            if not can_sign_in(self.session, account):
                raise errors.LAST_CONNECTION()
            emit(self.session, "auth.oauth_unlinked",
                 {"user_id": account.id, "provider": label.name, "ip": ip})
            mail.queue(self.session, account.email,
                       *mail.sign_in_provider_mail(label.name, ip, linked=False))

    def _provider(self, name: str) -> Provider:
        provider = self.providers.get(name)
        if provider is None:
            raise errors.PROVIDER_DISABLED(
                f"Sign-in with {name} is not enabled here; its operator enables it with "
                f"OAUTH_{name.upper()}_CLIENT_ID and OAUTH_{name.upper()}_CLIENT_SECRET.")
        return provider

    def _identity(self, name: str, flow: Flow, callback: Callback, *, ip: str,
                  user_id: str | None = None) -> Identity:
        """Spend the state (it must be this provider's, purpose's, browser's and, to link,
        account's), then ask the provider who signed in."""
        provider = self._provider(name)
        claim = self.tokens.redeem(OAUTH_STATE, callback.state, ip=ip)
        if claim is None or (claim["provider"], claim["flow"], claim["browser"],
                             claim["user_id"]) != (name, flow.value, callback.browser, user_id):
            raise errors.INVALID_STATE()
        return provider.identity(callback.code,
                                 Attempt(claim["code_verifier"], claim["nonce"]))

    def _pending(self, token: str, browser: str) -> Identity:
        """The identity of a pending sign-up this browser started."""
        pending = self.tokens.read(OAUTH_PENDING, token)
        if pending is None:
            raise errors.PENDING_SIGNUP_EXPIRED()
        if pending.pop("browser") != browser:
            raise errors.PENDING_SIGNUP_INVALID()
        return Identity(**pending)

    def _linked_account(self, identity: Identity) -> Account | None:
        return self.session.scalar(sa.select(Account).join(
            Connection, Connection.account_id == Account.id).where(
            Connection.provider == identity.provider, Connection.subject == identity.subject))

    def _connections_of(self, user_id: str) -> list[Connection]:
        return list(self.session.scalars(sa.select(Connection).where(
            Connection.account_id == user_id).order_by(Connection.created_at)))

    def _sign_up(self, identity: Identity, handle: str, client: Client) -> Account:
        # v0 display names have at least 3 characters; a shorter name gives way to the handle.
        name = identity.display_name if len(identity.display_name) >= 3 else handle
        form = SignUp(email=identity.email, handle=handle, display_name=name, password=None,
                      verified=True, via=identity.provider)
        try:
            return self.accounts.sign_up(form, client, welcome=lambda account: self._connect(
                account, identity, ip=client.ip))
        except DomainError as error:
            if error.code == errors.EMAIL_TAKEN.code:  # taken since the check above
                raise errors.OAUTH_EMAIL_TAKEN() from None
            raise

    def _connect(self, account: Account, identity: Identity, *, ip: str) -> None:
        self.session.add(Connection(provider=identity.provider, subject=identity.subject,
                                    account_id=account.id))
        try:
            self.session.flush()  # the identity linked elsewhere at the same moment: one wins
        except sa.exc.IntegrityError:
            raise errors.ALREADY_LINKED() from None
        emit(self.session, "auth.oauth_linked",
             {"user_id": account.id, "provider": Label(identity.provider).name, "ip": ip})

    def _adopt_avatar(self, user_id: str, identity: Identity) -> None:
        """The provider's picture becomes the profile image, through user-service's image
        pipeline; best effort: the account exists whether or not this works."""
        provider = self.providers.get(identity.provider)
        data = provider.avatar(identity.avatar_url) if provider is not None else None
        if data is None:
            return
        try:
            self.profiles.edit(user_id, {"image": {"data": base64.b64encode(data).decode()}})
        except DomainError as error:
            log.info("provider avatar not adopted", extra={"user_id": user_id,
                                                           "reason": error.code})

