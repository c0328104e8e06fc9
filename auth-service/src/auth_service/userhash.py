"""How the users API names its users and checks its credentials: a user by `userhash`, the
SHA-512 of their Tessera handle in hex, a session by `ssid`, its Tessera session token; both
travel as `Authorization: Basic base64(userhash:ssid)`."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from auth_service import errors
from auth_service.accounts import Accounts
from auth_service.models import Account
from tessera_shared.clients.profiles import Profile
from tessera_shared.throttle import SSID_PER_IP


def userhash(handle: str) -> str:
    return hashlib.sha512(handle.encode()).hexdigest()


@dataclass(frozen=True)
class Named:
    handle: str               # as stored; the username as given when there is no such user
    profile: Profile | None
    account: Account | None   # None too for a registry keyholder (a profile, no account)


def named(accounts: Accounts, username: str) -> Named:
    """The user a username names (its handle, in any case)."""
    profile = accounts.profiles.find(username)
    if profile is None:
        return Named(username, None, None)
    return Named(profile.handle, profile, accounts.session.get(Account, profile.id))


@dataclass(frozen=True)
class SignedInUser:
    account: Account
    profile: Profile


def signed_in(accounts: Accounts, given_userhash: str, ssid: str, *, ip: str) -> SignedInUser:
    """The user whose live session `ssid` is, if `given_userhash` names them; anything else
    is the same refusal (no session, no such user, another user's hash, too many tries from
    this address)."""
    throttle = accounts.authenticator.throttle
    if not throttle.attempt((SSID_PER_IP, ip)):
        raise errors.BASIC_CREDENTIALS_REQUIRED()
    record = accounts.sessions.read(ssid)
    profile = accounts.profiles.get(record.user_id) if record else None
    account = accounts.session.get(Account, record.user_id) if record else None
    name_hash = userhash(profile.handle) if profile else ""
    if (account is None or profile is None
            or not hmac.compare_digest(name_hash, given_userhash)):
        raise errors.BASIC_CREDENTIALS_REQUIRED()
    throttle.succeeded((SSID_PER_IP, ip))
    return SignedInUser(account, profile)
