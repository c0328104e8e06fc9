"""Every error id registry-service answers with (the platform-wide ones are in
`tessera_shared.errors`). The REST family prefixes the message with what failed; the
WebSocket family maps some codes to its typed errors (`omega.handlers`)."""

from __future__ import annotations

from tessera_shared.errors import ErrorId

MISSING_VALUES = ErrorId("registry:missing_values", 400, "Missing Values")
INVALID_VALUE = ErrorId("registry:invalid_value", 400)
INVALID_DATA = ErrorId("registry:invalid_data", 400)  # an Omikron frame's data
INVALID_PUBLIC_KEY = ErrorId("registry:invalid_public_key", 400, "public_key must be base64")
INVALID_PATH = ErrorId("registry:invalid_path", 400, "Invalid user path")
PERMISSION_DENIED = ErrorId("registry:permission_denied", 403, "Permission Denied")
# In the original's words, but 401: no Omikron credential came at all (an id that names no
# Omikron is OMIKRON_UNKNOWN, 403).
OMIKRON_REQUIRED = ErrorId("registry:omikron_required", 401, "Permission Denied")
BAD_TOKEN = ErrorId("registry:bad_token", 403, "Operation failed: Bad Token")
OMIKRON_UNKNOWN = ErrorId("registry:omikron_unknown", 403, "Operation failed: UUID not found.")
USER_NOT_FOUND = ErrorId("registry:user_not_found", 404, "User not found")
USERNAME_TAKEN = ErrorId("user:handle_already_exists", 409, "Username is taken")
IOTA_EXISTS = ErrorId("registry:iota_exists", 409, "An Iota with that id exists")
TOO_MANY_REGISTRATIONS = ErrorId("registry:too_many_registrations", 429,
                                 "Too many registrations from this address; try again later")
