"""Every error id user-service answers with (the platform-wide ones are in
`tessera_shared.errors`)."""

from __future__ import annotations

from tessera_shared.errors import ErrorId
from tessera_shared.validation import HANDLE_ALPHABET
from user_service.models import HANDLE_KEY_MAX

PROFILE_NOT_FOUND = ErrorId("user:not_found", 404, "No user has that handle or id.")
HANDLE_TAKEN = ErrorId("user:handle_already_exists", 409, "That handle is taken.")
PROFILE_EXISTS = ErrorId("user:already_exists", 409, "A profile with that id exists.")
NO_IMAGE = ErrorId("system:not_found", 404, "No image to delete.")
FILE_TOO_LARGE = ErrorId("file:read_error", 400, "The file is too large.")
CANNOT_FOLLOW_SELF = ErrorId("user:cannot_follow_self", 400, "You cannot follow yourself.")
INVALID_HANDLE = ErrorId("user:invalid_handle", 400, f"A handle may hold only {HANDLE_ALPHABET}, "
                         f"{HANDLE_KEY_MAX} of them at most; choose another.")
TOO_MANY_FOLLOW_CHANGES = ErrorId("rate_limit:exceeded", 429, "You followed and unfollowed "
                                  "too often in the last hour; wait a little, then try again.")
