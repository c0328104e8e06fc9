"""What an authenticated Omikron may ask, message by message (document 001).

Each handler takes the request's data and returns the reply's type and data, or None for
the presence reports, which the original does not answer. Domain errors become the
protocol's typed errors in `error_reply`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import orm

from registry_service import errors, keyholders, omikrons
from registry_service.keyholders import Guard, SignUp
from registry_service.models import Iota, Keyholder
from registry_service.pending import Registrations
from registry_service.presence import Presence
from tessera_shared.clients.profiles import Profiles
from tessera_shared.clock import utcnow
from tessera_shared.errors import SERVICE_UNAVAILABLE, DomainError
from tessera_shared.ids import uuid7

Reply = tuple[str, dict[str, Any]] | None
SUCCESS: Reply = ("success", {})


@dataclass
class Context:
    session: orm.Session
    registrations: Registrations
    profiles: Profiles
    presence: Presence
    guard: Guard
    connection: str  # the presence key of this Omikron socket, once it has identified

    @property
    def today(self) -> date:
        return utcnow().date()


def _number(data: dict[str, Any], key: str) -> int:
    """The protocol's ids are integers; a string of digits is taken too."""
    value = data.get(key)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2 ** 63:
        raise errors.INVALID_DATA(f"{key} must be a positive integer")
    return value


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise errors.INVALID_DATA(f"{key} is required")
    return value


def _holder(ctx: Context, data: dict[str, Any]) -> Keyholder:
    holder = keyholders.by_number(ctx.session, _number(data, "user_id"))
    if holder is None:
        raise errors.USER_NOT_FOUND()
    return holder


def _protocol_id(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def get_user_data(ctx: Context, data: dict[str, Any]) -> Reply:
    """By `user_id` (preferred) or `username`; the display name falls back to the username."""
    if "user_id" in data:
        holder: Keyholder | None = _holder(ctx, data)
        profile = ctx.profiles.get(holder.user_id, image=True)
    else:
        profile = ctx.profiles.find(_text(data, "username"), image=True)
        holder = profile and keyholders.by_user_id(ctx.session, profile.id)
    if holder is None or profile is None:
        raise errors.USER_NOT_FOUND()
    level, days = keyholders.subscription(holder, ctx.today)
    presence = ctx.presence.of_user(holder.number, holder.iota_id)
    reply: dict[str, Any] = {
        "user_id": holder.number, "iota_id": _protocol_id(holder.iota_id),
        "created_at": keyholders.millis(profile.created_at),
        "username": keyholders.username_of(profile.handle),
        "display": profile.display_name or profile.handle, "status": profile.status,
        "about": profile.bio, "avatar": profile.image and profile.image[1],
        "public_key": holder.public_key, "sub_level": level, "sub_end": days,
        "omikron_connections": presence.omikron_connections,
        "online_status": presence.online_status,
    }
    if presence.omikron_connections:
        reply["omikron_id"] = presence.omikron_connections[0]
    return "get_user_data", {key: value for key, value in reply.items() if value is not None}


def change_user_data(ctx: Context, data: dict[str, Any]) -> Reply:
    """Profile fields, and the key pair when `public_key` comes with `private_key_hash`."""
    holder = _holder(ctx, data)
    # The document's example sends every field, empty ones included: empty means unchanged.
    data = {key: value for key, value in data.items()
            if not (key in {"username", "public_key"} and value == "")}
    if "public_key" in data:
        if "private_key_hash" not in data:
            raise errors.INVALID_VALUE("private_key_hash is required when changing public_key")
        keyholders.change_keys(ctx.session, holder, keyholders.KeyPair(
            _text(data, "public_key"), _text(data, "private_key_hash")), None)
    keyholders.change_profile(ctx.profiles, holder, data, ctx.today)
    return SUCCESS


def change_iota_data(ctx: Context, data: dict[str, Any]) -> Reply:
    holder = _holder(ctx, data)
    iota_id, reset_token, new_token = (_text(data, key)
                                       for key in ("iota_id", "reset_token", "new_token"))
    if not ctx.guard.token(holder, reset_token):
        raise errors.BAD_TOKEN()
    keyholders.change_iota(ctx.session, holder, iota_id, new_token)
    return SUCCESS


def get_register(ctx: Context, _data: dict[str, Any]) -> Reply:
    """A registration id, open for one hour; named `user_id` as the original and the Iota
    read it, and `register_id` as the document does."""
    number = ctx.registrations.next_number()
    ctx.registrations.open(str(number))
    return "get_register", {"user_id": number, "register_id": number}


def complete_register_user(ctx: Context, data: dict[str, Any]) -> Reply:
    number = _number(data, "user_id")
    key_hash = data.get("private_key_hash")
    keyholders.register(ctx.session, ctx.registrations, ctx.profiles, SignUp(
        registration=str(number), user_id=str(uuid7()), number=number,
        username=_text(data, "username"), public_key=_text(data, "public_key"),
        private_key_hash=key_hash if isinstance(key_hash, str) else None,
        iota_id=_text(data, "iota_id"), reset_token=_text(data, "reset_token")))
    return SUCCESS


def complete_register_iota(ctx: Context, data: dict[str, Any]) -> Reply:
    """With `iota_id`, registers that id; without, allocates one and answers it."""
    given = "iota_id" in data
    number = _number(data, "iota_id") if given else ctx.registrations.next_number()
    omikrons.add_iota(ctx.session, number, _text(data, "public_key"))
    return SUCCESS if given else ("complete_register_iota", {"iota_id": number})


def get_iota_data(ctx: Context, data: dict[str, Any]) -> Reply:
    iota = ctx.session.get(Iota, _number(data, "iota_id"))
    if iota is None:
        raise errors.USER_NOT_FOUND("Iota not found")
    return "get_iota_data", {"iota_id": iota.number, "public_key": iota.public_key}


def delete_user(ctx: Context, data: dict[str, Any]) -> Reply:
    """The Omikron has authenticated the user; as in the original, no token is asked."""
    keyholders.delete(ctx.session, ctx.profiles, _holder(ctx, data))
    return SUCCESS


def delete_iota(ctx: Context, data: dict[str, Any]) -> Reply:
    if not omikrons.remove(ctx.session, Iota, _number(data, "iota_id")):
        raise errors.USER_NOT_FOUND("Iota not found")
    return SUCCESS


def _presence(kind: str, joined: bool) -> Callable[[Context, dict[str, Any]], Reply]:
    key = f"{kind}_id"

    def report(ctx: Context, data: dict[str, Any]) -> Reply:
        change = ctx.presence.connected if joined else ctx.presence.disconnected
        change(ctx.connection, kind, _text(data, key))
        return None
    return report


def sync_client_iota_status(ctx: Context, data: dict[str, Any]) -> Reply:
    users, iotas = data.get("user_ids", []), data.get("iota_ids", [])
    if not isinstance(users, list) or not isinstance(iotas, list):
        raise errors.INVALID_DATA("user_ids and iota_ids must be lists")
    ctx.presence.sync(ctx.connection, users, iotas)
    return None


HANDLERS: dict[str, Callable[[Context, dict[str, Any]], Reply]] = {
    "get_user_data": get_user_data,
    "change_user_data": change_user_data,
    "change_iota_data": change_iota_data,
    "get_register": get_register,
    "complete_register_user": complete_register_user,
    "complete_register_iota": complete_register_iota,
    "get_iota_data": get_iota_data,
    "delete_user": delete_user,
    "delete_iota": delete_iota,
    "user_connected": _presence("user", joined=True),
    "user_disconnected": _presence("user", joined=False),
    "iota_connected": _presence("iota", joined=True),
    "iota_disconnected": _presence("iota", joined=False),
    "sync_client_iota_status": sync_client_iota_status,
}

# Domain errors as the protocol's typed errors; the rest are `error` with `error_type`.
TYPED = {
    errors.INVALID_DATA.code: "error_invalid_data",
    errors.USER_NOT_FOUND.code: "error_not_found",
    errors.BAD_TOKEN.code: "error_invalid_challenge",
    errors.PERMISSION_DENIED.code: "error_invalid_challenge",
    errors.INVALID_PUBLIC_KEY.code: "error_invalid_public_key",
    SERVICE_UNAVAILABLE.code: "error_internal",
}


def error_reply(error: DomainError) -> tuple[str, dict[str, Any]]:
    typed = TYPED.get(error.code)
    return (typed, {}) if typed else ("error", {"error_type": error.message})
