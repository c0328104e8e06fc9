"""Registry users ("keyholders"): sign-up, their secrets, profile changes and deletion.

Both API families (REST and the Omikron WebSocket) call these functions; each maps the
domain errors onto its own replies. Reasons are worded as the original registry words them,
because its clients show them to people.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from registry_service import errors
from registry_service.models import Keyholder
from registry_service.pending import Registrations
from registry_service.profiles import AVATAR_SIDE, FREE_QUALITY, PREMIUM_QUALITY
from tessera_shared import limits
from tessera_shared.clients.profiles import NewProfile, Profile, Profiles
from tessera_shared.clock import as_utc
from tessera_shared.errors import DomainError
from tessera_shared.ids import digest, uuid7
from tessera_shared.outbox import emit
from tessera_shared.signup import reserve_profile
from tessera_shared.throttle import REGISTRATIONS_PER_IP, REGISTRY_SECRET, Throttle
from tessera_shared.transactions import after_commit, after_rollback

USERNAME_MAX = 15
SHORT_TEXT_MAX = 15   # display, status
ABOUT_MAX = 200
PUBLIC_KEY_MAX = 4096
TOKEN_LENGTH = range(16, 513)  # the Iota's tokens are 256 characters (192 random bytes)
AVATAR_MAX_BYTES = limits.REGISTRY_AVATAR
_NOT_USERNAME = re.compile(r"[^a-z0-9_]")
_KEY_HASH = re.compile(r"^[0-9a-fA-F]{64}$")


def normalize_username(raw: str) -> str:
    """As the original: lower case, and everything but a-z, 0-9 and _ dropped."""
    return _NOT_USERNAME.sub("", raw.lower())


def username_of(handle: str) -> str:
    """A handle as registry clients expect a username: one taken through another family may
    have capitals, which never tell handles apart."""
    return handle.lower()


def checked_username(raw: str) -> str:
    username = normalize_username(raw)
    if not 1 <= len(username) <= USERNAME_MAX:
        raise errors.INVALID_VALUE(
            f"username must have 1 to {USERNAME_MAX} of the characters a-z, 0-9, _")
    return username


def _checked_key_hash(value: str) -> str:
    if not _KEY_HASH.match(value):
        raise errors.INVALID_VALUE("private_key_hash must be a SHA-256 in hex (64 characters)")
    return value.lower()


def _checked_token(value: str, name: str) -> str:
    if len(value) not in TOKEN_LENGTH:
        raise errors.INVALID_VALUE(
            f"{name} must be {TOKEN_LENGTH.start} to {TOKEN_LENGTH.stop - 1} characters")
    return value


def _checked_public_key(value: str) -> str:
    if not value.strip() or len(value) > PUBLIC_KEY_MAX:
        raise errors.INVALID_VALUE(f"public_key must be 1 to {PUBLIC_KEY_MAX} characters")
    return value


def _same(secret: str, stored_digest: str | None) -> bool:
    return stored_digest is not None and hmac.compare_digest(digest(secret), stored_digest)


# -- lookups ------------------------------------------------------------------------------

def by_user_id(session: orm.Session, user_id: str) -> Keyholder | None:
    return session.get(Keyholder, user_id)


def by_number(session: orm.Session, number: int) -> Keyholder | None:
    return session.scalar(sa.select(Keyholder).where(Keyholder.number == number))


def subscription(holder: Keyholder | None, today: date) -> tuple[int, int]:
    """(sub_level, sub_end): the level, and the UTC days left, from the stored expiry; both
    reach 0 when it passes, as the original's daily job made them."""
    if holder is None or holder.sub_until is None:
        return 0, 0
    days = max(0, (holder.sub_until - today).days)
    return (holder.sub_level if days else 0), days


def set_subscription(session: orm.Session, holder: Keyholder, level: int, days: int,
                     today: date) -> None:
    holder.sub_level = level
    holder.sub_until = today + timedelta(days=days) if days > 0 else None
    emit(session, "registry.subscription_changed",
         {"user_id": holder.user_id, "level": level, "days": days})


def millis(moment: datetime) -> int:
    return int(as_utc(moment).timestamp() * 1000)


def avatar_uri(profile: Profile) -> str | None:
    if profile.image is None:
        return None
    kind, data = profile.image
    return f"data:image/{kind};base64,{data}"


def public_view(profile: Profile, holder: Keyholder | None, today: date) -> dict[str, Any]:
    """The nine keys every client of the original reads; a Tessera user without registry
    keys (made through another API) has no public key and no subscription."""
    level, days = subscription(holder, today)
    return {
        "created_at": millis(profile.created_at), "username": username_of(profile.handle),
        "display": profile.display_name, "avatar": avatar_uri(profile),
        "about": profile.bio or "", "status": profile.status or "",
        "public_key": holder.public_key if holder else None,
        "sub_level": level, "sub_end": days,
    }


# -- sign-up ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignUp:
    registration: str          # the id `register/init` or `get_register` issued
    user_id: str
    number: int
    username: str
    public_key: str
    private_key_hash: str | None
    iota_id: str
    reset_token: str
    ip: str | None = None


def start_registration(registrations: Registrations, throttle: Throttle, ip: str) -> str:
    """A user id to register within one hour, once (the REST family's way to begin); a few
    per address and hour."""
    if not throttle.take(REGISTRATIONS_PER_IP, ip):
        raise errors.TOO_MANY_REGISTRATIONS()
    user_id = str(uuid7())
    registrations.open(user_id)
    return user_id


def register(session: orm.Session, registrations: Registrations, profiles: Profiles,
             form: SignUp) -> Keyholder:
    """Create the profile (user-service settles who gets a username) and then the keys, or
    neither: if the caller's unit of work rolls back, the profile is removed and the
    registration id given back, so it is used up only by a sign-up that succeeds."""
    username = checked_username(form.username)
    public_key = _checked_public_key(form.public_key)
    key_hash = None if form.private_key_hash is None else _checked_key_hash(
        form.private_key_hash)
    token = _checked_token(form.reset_token, "reset_token")
    remaining = registrations.claim(form.registration)
    if remaining is None:
        raise errors.INVALID_VALUE("User creation failed due to invalid UUID")
    try:
        reserve_profile(session, profiles, NewProfile(form.user_id, username, display_name=""))
    except DomainError as error:
        registrations.reopen(form.registration, remaining)  # no profile was made
        if error.status == 409:
            raise errors.USERNAME_TAKEN() from None
        raise
    # Registered after the profile's own undo, so it runs after it: the id is open again
    # only once the profile made with it is gone.
    after_rollback(session, lambda: registrations.reopen(form.registration, remaining))
    holder = Keyholder(user_id=form.user_id, number=form.number, public_key=public_key,
                       key_hash_digest=key_hash and digest(key_hash),
                       token_digest=digest(token), iota_id=form.iota_id, sub_level=0)
    session.add(holder)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        raise errors.INVALID_VALUE("reset_token is already in use") from None
    emit(session, "user.registered", {"user_id": form.user_id, "handle": username,
                                      "via": "registry", "ip": form.ip})
    return holder


# -- secrets ------------------------------------------------------------------------------

class Guard:
    """Checks of a user's secrets, throttled per user and per address (an Iota's address that
    proved a user's secret before has a bucket of its own); a throttled check fails exactly
    like a wrong secret."""

    def __init__(self, throttle: Throttle, ip: str | None) -> None:
        self.throttle = throttle
        self.ip = ip or "unknown"

    def check(self, holder: Keyholder, secret: str, stored_digest: str | None) -> bool:
        checks = self.throttle.checks(REGISTRY_SECRET, holder.user_id, device=None, ip=self.ip)
        if not self.throttle.attempt(*checks) or not _same(secret, stored_digest):
            return False
        self.throttle.proved(REGISTRY_SECRET, holder.user_id, checks, device=None, ip=self.ip)
        return True

    def key_hash(self, holder: Keyholder, private_key_hash: str) -> bool:
        return self.check(holder, private_key_hash.lower(), holder.key_hash_digest)

    def token(self, holder: Keyholder, reset_token: str) -> bool:
        return self.check(holder, reset_token, holder.token_digest)


def key_matches(holder: Keyholder, private_key_hash: str) -> bool:
    """What an Omikron asks when a client identifies itself (not throttled here: a wrong
    answer to an Omikron must not lock the real user out)."""
    return _same(private_key_hash.lower(), holder.key_hash_digest)


def rotate_token(session: orm.Session, holder: Keyholder, new_token: str) -> None:
    """The reset token is single use: each change it authorises replaces it."""
    holder.token_digest = digest(_checked_token(new_token, "new_token"))
    try:
        session.flush()
    except sa.exc.IntegrityError:
        raise errors.INVALID_VALUE("new_token is already in use") from None
    except orm.exc.StaleDataError:
        raise errors.PERMISSION_DENIED() from None  # a concurrent change used the token first


def change_iota(session: orm.Session, holder: Keyholder, iota_id: str, new_token: str,
                ip: str | None = None) -> None:
    if not iota_id.strip() or len(iota_id) > 64:
        raise errors.INVALID_VALUE("iota_id must be 1 to 64 characters")
    holder.iota_id = iota_id
    rotate_token(session, holder, new_token)
    emit(session, "registry.iota_changed",
         {"user_id": holder.user_id, "iota_id": iota_id, "ip": ip})


@dataclass(frozen=True)
class KeyPair:
    public_key: str
    private_key_hash: str  # the client's SHA-256 of its private key, in hex


def change_keys(session: orm.Session, holder: Keyholder, keys: KeyPair,
                new_token: str | None, ip: str | None = None) -> None:
    holder.public_key = _checked_public_key(keys.public_key)
    holder.key_hash_digest = digest(_checked_key_hash(keys.private_key_hash))
    if new_token is not None:
        rotate_token(session, holder, new_token)
    emit(session, "registry.keys_changed", {"user_id": holder.user_id, "ip": ip})


# -- profile ------------------------------------------------------------------------------

PROFILE_FIELDS = ("username", "display", "avatar", "about", "status")


def profile_changes(values: dict[str, Any], level: int) -> dict[str, Any]:
    """The registry's fields, checked, as user-service's profile fields. `null` clears
    display, status, about and avatar, as in the original."""
    changes: dict[str, Any] = {}
    for name in PROFILE_FIELDS:
        if name not in values:
            continue
        value = values[name]
        if value is not None and not isinstance(value, str):
            raise errors.INVALID_VALUE(f"{name} must be a string")
        if name == "username":
            if value is None:
                raise errors.INVALID_VALUE("username must be a string")
            changes["handle"] = checked_username(value)
        elif name == "avatar":
            changes["image"] = None if value is None else _avatar(value, level)
        else:
            limit = ABOUT_MAX if name == "about" else SHORT_TEXT_MAX
            if value is not None and len(value) > limit:
                raise errors.INVALID_VALUE(f"{name} may be at most {limit} characters")
            target = {"display": "display_name", "about": "bio", "status": "status"}[name]
            changes[target] = value or ("" if name == "display" else None)
    return changes


def _avatar(value: str, level: int) -> dict[str, Any]:
    """A base64 image or data URI, for user-service to re-encode as the original did."""
    data = value.split(";base64,", 1)[-1]
    if len(data) > AVATAR_MAX_BYTES * 4 // 3 + 4:
        raise errors.INVALID_VALUE(f"avatar may be at most {AVATAR_MAX_BYTES >> 20} MiB")
    return {"data": data, "max_side": AVATAR_SIDE,
            "quality": PREMIUM_QUALITY if level >= 1 else FREE_QUALITY}


def change_profile(profiles: Profiles, holder: Keyholder, values: dict[str, Any],
                   today: date) -> Profile:
    level, _days = subscription(holder, today)
    changes = profile_changes(values, level)
    user_id = holder.user_id
    try:
        profile = (profiles.edit(user_id, changes) if changes
                   else profiles.get(user_id, image=True))
    except DomainError as error:
        if error.status == 409:
            raise errors.USERNAME_TAKEN() from None  # worded as at sign-up
        raise
    if profile is None:
        raise errors.USER_NOT_FOUND()
    return profile


# -- deletion -----------------------------------------------------------------------------

def delete(session: orm.Session, profiles: Profiles, holder: Keyholder,
           ip: str | None = None) -> None:
    """Delete the user everywhere: the keys here and now, the profile now if user-service
    answers, and everything else through `user.deleted`."""
    user_id = holder.user_id
    session.delete(holder)
    emit(session, "user.deleted", {"user_id": user_id, "ip": ip})
    after_commit(session, lambda: profiles.delete(user_id))


def erase(session: orm.Session, user_id: str) -> None:
    """Applied for `user.deleted`, wherever the deletion started."""
    holder = session.get(Keyholder, user_id)
    if holder is not None:
        session.delete(holder)
