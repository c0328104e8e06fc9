"""The five API families and their envelopes: the one place that knows each family's shape.

Every error any service or the gateway answers goes through `render_error`, in the family
`family_for_path` names. Success bodies are each family's own business (their views build them,
with the helpers here where a family has a fixed shape).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
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
REGISTRY_MESSAGES = {"system:not_found": "Route not found",
                     "system:method_not_allowed": "Route not found"}


def registry_body(kind: str, message: str, log_level: int,
                  data: dict[str, Any] | None = None) -> dict[str, Any]:
    """`log_level`: 0 for what users do, 1 for Omikron calls and most failures, as the
    original registry uses them (clients only look at `type`)."""
    body: dict[str, Any] = {"type": kind, "log": {"message": message, "log_level": log_level}}
    if data is not None:
        body["data"] = data
    return body


# The users API answers with message codes and statuses of its own; these platform errors have
# an equivalent there. Any other error says the last part of its code, in capitals.
USERS_API_ERRORS = {
    "general:bad_request": (422, "INVALID_INPUT"),
    "general:validation_error": (422, "INVALID_INPUT"),
    "system:method_not_allowed": (422, "INVALID_METHOD"),
    "auth:invalid_credentials": (401, "INVALID_PASSWORD"),
    "user:unauthorized": (401, "PLEASE_LOGIN"),
    "user:handle_already_exists": (200, "ERROR_LOGIN_WITH_PASSWORD"),
    "user:registration_closed": (401, "CANT_CREATE_USER"),
    "token:invalid_reset_code": (401, "ERROR_INVALID_OTP"),
    "totp:code_required": (401, "TOTP_REQUIRED"),
    "rate_limit:exceeded": (429, "TOO_MANY_REQUESTS"),  # Tessera's: the original had no limits
}
# ...and says these with `"success": "false"`, a string, where the others have a boolean.
_USERS_API_STRING_FALSE = {"INVALID_PASSWORD", "INVALID_INPUT", "INVALID_METHOD"}
_USERS_API_LOGIN = "/api/login"  # whose wrong method is 403 "INVALID_METHOD." (with a dot)


# The user API (document 003) says each refusal in a sentence of its document: the platform's
# errors its endpoints meet say that one (with the document's status).
USER_API_ERRORS = {
    "user:handle_already_exists": (409, "User already exists"),
    "user:email_already_exists": (409, "Email already exists"),
    "auth:invalid_credentials": (401, "Authenticated failed"),
    "user:not_found": (404, "User not found"),
}


def user_api_body(status: int, message: str, data: Any = "null") -> dict[str, Any]:
    """`{"statusCode": "<status>", "message", "data"}`: the status as a string, and `data`
    the string "null" where there is nothing, as the document writes them."""
    return {"statusCode": str(status), "message": message, "data": data}


def user_api_profile(shown: Mapping[str, str | None], *, followers: int,
                     following: int) -> dict[str, Any]:
    """A user as the user API shows one (its profile, and the account just created): the
    text fields, "" where not set as the document writes them, and the follow counts."""
    text = {key: shown.get(key) or "" for key in
            ("username", "name", "bio", "website", "pronounce")}
    return {**text, "followers": followers, "following": following}


def users_api_body(success: bool | str, message: Any, details: str | None = None
                   ) -> dict[str, Any]:
    """`{"success", "data": {"message"}}`; `details` (a human sentence) is Tessera's."""
    data = {"message": message} if details is None else {"message": message, "details": details}
    return {"success": success, "data": data}


def in_family(family: Family, error: DomainError, path: str) -> DomainError:
    """The error as its family states it (its own status and code, where it has one)."""
    if family is Family.USER_API and error.code in USER_API_ERRORS:
        status, sentence = USER_API_ERRORS[error.code]
        return DomainError(error.code, status, sentence)
    if family is not Family.USERS_API or error.code not in USERS_API_ERRORS:
        return error
    status, message = USERS_API_ERRORS[error.code]
    if error.code == "system:method_not_allowed" and path.startswith(_USERS_API_LOGIN):
        status, message = 403, "INVALID_METHOD."
    return DomainError(f"users:{message}", status, error.message)


def error_body(family: Family, error: DomainError) -> dict[str, Any]:
    if family is Family.REGISTRY:
        return registry_body("error", REGISTRY_MESSAGES.get(error.code, error.message), 1)
    if family is Family.USER_API:
        return user_api_body(error.status, error.message)
    if family is Family.USERS_API:
        message = error.code.split(":")[-1].upper()
        return users_api_body("false" if message in _USERS_API_STRING_FALSE else False,
                              message, error.message)
    return {"status": error.status, "code": error.code, "details": error.message}


def render_error(path: str, error: DomainError) -> tuple[int, bytes]:
    """The status and compact JSON body that answer `error` for a request to `path`."""
    family = family_for_path(path)
    error = in_family(family, error, path)
    return error.status, json.dumps(error_body(family, error), separators=(",", ":")).encode()
