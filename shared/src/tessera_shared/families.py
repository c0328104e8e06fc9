"""The five API families and their envelopes: the one place that knows each family's shape.

Every error any service or the gateway answers goes through `error_response_body`, chosen by
`family_for_path`. Success bodies are each family's own business (their views build them).
"""

from __future__ import annotations

import enum
import json
from typing import Any

from tessera_shared.errors import DomainError


class Family(enum.Enum):
    V0 = "v0"                   # AxumKit-compatible: {"status", "code", "details"}
    REGISTRY = "registry"       # Tensamin AuthServer: {"type", "log": {"message", "log_level"}}
    USER_API = "user_api"       # /user/*: {"statusCode": "<str>", "message", "data"}
    USERS_API = "users_api"     # manage-my-damn-life: {"success", "data": {"message"}}


_USERS_API_PREFIXES = ("/api/login", "/api/users/")
_REGISTRY_PREFIXES = ("/api/", "/ws/")


def family_for_path(path: str) -> Family:
    """Which family's envelope answers a request for `path` (v0 is the platform default)."""
    if path.startswith(_USERS_API_PREFIXES) or path == "/api/users":
        return Family.USERS_API
    if path.startswith(_REGISTRY_PREFIXES) or path == "/api":
        return Family.REGISTRY
    if path.startswith("/user/") or path == "/user":
        return Family.USER_API
    return Family.V0


# The registry and users API clients key on a message, not a code: say it the family's way.
_REGISTRY_MESSAGES = {"system:not_found": "Route not found",
                      "system:method_not_allowed": "Route not found"}


def registry_body(kind: str, message: str, log_level: int,
                  data: dict[str, Any] | None = None) -> dict[str, Any]:
    """`log_level`: 0 for what users do, 1 for Omikron calls and most failures, as the
    original registry uses them (clients only look at `type`)."""
    body: dict[str, Any] = {"type": kind, "log": {"message": message, "log_level": log_level}}
    if data is not None:
        body["data"] = data
    return body


def error_body(family: Family, error: DomainError) -> dict[str, Any]:
    if family is Family.REGISTRY:
        return registry_body("error", _REGISTRY_MESSAGES.get(error.code, error.message), 1)
    if family is Family.USER_API:
        return {"statusCode": str(error.status), "message": error.message, "data": "null"}
    if family is Family.USERS_API:
        return {"success": False, "data": {"message": error.code.split(":")[-1].upper()}}
    return {"status": error.status, "code": error.code, "details": error.message}


def error_response_body(path: str, error: DomainError) -> bytes:
    return json.dumps(error_body(family_for_path(path), error), separators=(",", ":")).encode()
