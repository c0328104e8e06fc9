"""Every error id user-service answers with (the platform-wide ones are in
`tessera_shared.errors`)."""

from __future__ import annotations

from tessera_shared.errors import ErrorId

PROFILE_NOT_FOUND = ErrorId("user:not_found", 404, "No user has that handle or id.")
HANDLE_TAKEN = ErrorId("user:handle_already_exists", 409, "That handle is taken.")
PROFILE_EXISTS = ErrorId("user:already_exists", 409, "A profile with that id exists.")
NO_IMAGE = ErrorId("system:not_found", 404, "No image to delete.")
FILE_TOO_LARGE = ErrorId("file:read_error", 400, "The file is too large.")
CANNOT_FOLLOW_SELF = ErrorId("user:cannot_follow_self", 400, "You cannot follow yourself.")
HANDLE_TOO_LONG = ErrorId("user:handle_too_long", 400, "That handle is too long once its case "
                          "is folded (64 characters at most); choose a shorter one.")
HANDLE_INVISIBLE = ErrorId("user:handle_invisible_characters", 400, "A handle cannot contain "
                           "invisible formatting characters (zero-width, direction marks).")
TOO_MANY_FOLLOW_CHANGES = ErrorId("rate_limit:exceeded", 429, "You followed and unfollowed "
                                  "too often in the last hour; wait a little, then try again.")
