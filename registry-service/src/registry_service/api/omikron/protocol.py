"""Frames of the Omikron protocol: `{"id", "type", "data", "sender"?, "receiver"?}`.

Type and data-key names are matched as the original matches them: without regard to case
and ignoring underscores (`deleteUser`, `DELETE_USER`, `delete_user`). The document's own
spellings are accepted too: `delete_profile` and `delet_profile` for `delete_user` and
`delete_iota`, and `change_user_data` carrying a reset token for `change_iota_data`. A reply
reuses its request's id.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from tessera_shared import client_json

TYPES = (
    "ping", "pong", "identification", "challenge_response",
    "get_user_data", "get_iota_data", "change_user_data", "change_iota_data",
    "get_register", "complete_register_user", "complete_register_iota",
    "delete_user", "delete_iota",
    "user_connected", "user_disconnected", "iota_connected", "iota_disconnected",
    "sync_client_iota_status",
)
KEYS = (
    "user_id", "iota_id", "omikron", "username", "display", "avatar", "about", "status",
    "public_key", "private_key_hash", "reset_token", "new_token", "challenge", "user_ids",
    "iota_ids",
)


def _loose(name: str) -> str:
    return name.replace("_", "").lower()


_TYPE_BY_NAME = {_loose(name): name for name in TYPES} | {
    "deleteprofile": "delete_user", "deletprofile": "delete_iota"}
_KEY_BY_NAME = {_loose(name): name for name in KEYS}
_IOTA_CHANGE = {"reset_token", "new_token"}


class FrameError(ValueError):
    """Not a frame at all (not JSON, not an object)."""


@dataclass(frozen=True)
class Frame:
    id: str | int
    type: str          # one of TYPES, or "unknown"
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | bytes) -> Frame:
        try:
            raw = client_json.loads(text)
        except ValueError:
            raise FrameError("not JSON") from None
        if not isinstance(raw, dict):
            raise FrameError("not an object")
        given = raw.get("data")
        data = {_KEY_BY_NAME[_loose(key)]: value
                for key, value in (given.items() if isinstance(given, dict) else ())
                if isinstance(key, str) and _loose(key) in _KEY_BY_NAME}
        kind = raw.get("type")
        name = _TYPE_BY_NAME.get(_loose(kind), "unknown") if isinstance(kind, str) else "unknown"
        if name == "change_user_data" and data.keys() >= _IOTA_CHANGE:
            name = "change_iota_data"
        return cls(id=_message_id(raw.get("id")), type=name, data=data)

    def reply(self, kind: str, data: dict[str, Any] | None = None) -> str:
        return encode(self.id, kind, data)


def encode(message_id: str | int, kind: str, data: dict[str, Any] | None = None) -> str:
    return json.dumps({"id": message_id, "type": kind, "data": data or {}},
                      separators=(",", ":"))


def new_id() -> str:
    return str(uuid.uuid4())


def _message_id(value: Any) -> str | int:
    """The request's id, for the reply. The original replaced anything but a UUID (its
    clients send UUIDs); any short string or integer is kept here, so every request can be
    matched with its reply."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and 0 < len(value) <= 64:
        return value
    return new_id()
