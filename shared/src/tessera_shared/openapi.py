"""What a service's OpenAPI document says per API family, beyond what its views declare: the
family's own error envelope as the default answer (and, for a refused argument, with the
status the family answers it with), and how each signed-in operation is authenticated.

Views mark a signed-in operation with `Blueprint.requires(<scheme>)`; registry operations that
an Omikron calls declare its `Authorization` header, which becomes the `omikron` scheme here.
"""

from __future__ import annotations

from typing import Any

from tessera_shared.errors import validation_error
from tessera_shared.families import Family, family_for_path, in_family

SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "session": {"type": "apiKey", "in": "cookie", "name": "session_id",
                "description": "v0: the session cookie that signing in sets"},
    "token": {"type": "apiKey", "in": "cookie", "name": "TOKEN",
              "description": "the user API: the cookie /user/auth sets (also taken as "
                             "`Authorization: Bearer <token>`)"},
    "basic": {"type": "http", "scheme": "basic",
              "description": "the users API: the userhash and ssid that /api/login answers"},
    "omikron": {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "the registry: an Omikron's REST id, raw (no `Bearer`)"},
}
# The schema (in components) of each family's refusals.
ERROR_SCHEMAS = {Family.V0: "ErrorEnvelope", Family.REGISTRY: "RegistryFailure",
                 Family.USER_API: "UserApiEnvelope", Family.USERS_API: "UsersApiEnvelope"}
_BAD_REQUEST = {"$ref": "#/components/responses/BAD_REQUEST"}


def by_family(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` (a service's document, as flask-smorest makes it) as each family answers."""
    spec.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    spec["components"].get("responses", {}).pop("DEFAULT_ERROR", None)
    for path, operations in spec.get("paths", {}).items():
        family = family_for_path(path)
        envelope = {"content": {"application/json": {"schema": {
            "$ref": f"#/components/schemas/{ERROR_SCHEMAS[family]}"}}}}
        for method, operation in operations.items():
            if method != "parameters":
                _document(operation, family, path, envelope)
    return spec


def _document(operation: dict[str, Any], family: Family, path: str,
              envelope: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    responses["default"] = {"description": "a refusal, in this API's envelope", **envelope}
    if responses.get("400") == _BAD_REQUEST:
        del responses["400"]
        status = in_family(family, validation_error(""), path).status
        responses.setdefault(str(status), {
            "description": "a field missing, malformed or out of its rules", **envelope})
    headers = [p for p in operation.get("parameters", [])
               if p["in"] == "header" and p["name"] == "Authorization"]
    if headers:  # the Omikron's id: a credential, not an argument
        operation["parameters"] = [p for p in operation["parameters"] if p not in headers]
        operation["security"] = [{"omikron": []}]
    if operation.get("security") and family is Family.V0:  # the others say their own way
        responses.setdefault("401", {"description": "user:unauthorized: no session, or it "
                                                    "ended", **envelope})
