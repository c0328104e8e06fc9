"""How the user API (document 003) checks a body: one field at a time in the document's order,
and the first rule broken answers in the document's own words: a missing field "cannot be
null" (400), an empty one "cannot be empty" (400), a length or an address out of its rules 406.

A limit of the platform stricter than the document's (handles and names are at most 64
characters in every family) answers 406 in the same style, naming the real limit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from flask import Request
from marshmallow import fields, validate

from auth_service import errors
from auth_service.models import EMAIL_MAX_LENGTH
from tessera_shared import client_json
from tessera_shared.validation import (
    HANDLE_ALPHABET,
    HANDLE_CHARACTERS,
    ONE_WORD_PATTERN,
    WEB_ADDRESS_PATTERN,
    Schema,
    Text,
    is_email,
    is_handle,
)


@dataclass(frozen=True)
class Field:
    name: str                             # in the body
    label: str                            # as the messages name it
    required: bool = True
    lengths: tuple[int, int] | None = None  # the document's (min, max): 406 outside
    limit: int | None = None              # the platform's maximum, when below the document's
    empty: str | None = None              # the document's sentence for "", where it has its own
    single_word: bool = False
    handle: bool = False                  # keeps to every family's alphabet for handles
    kind: str = "text"                    # or "email", "url"
    description: str = ""                 # for the OpenAPI document

    def check(self, value: Any) -> str | None:
        """The value, or None for an optional field left out."""
        if value is None:
            if self.required:
                raise errors.FIELD_MISSING(f"{self.label} cannot be null")
            return None
        if not isinstance(value, str):
            raise errors.FIELD_MALFORMED(f"{self.label} must be text")
        if not value.strip():
            raise errors.FIELD_EMPTY(self.empty or f"{self.label} cannot be empty")
        if self.single_word and any(ch.isspace() for ch in value):
            raise errors.FIELD_MALFORMED(f"{self.label} cannot contain white space")
        if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in value):
            raise errors.FIELD_MALFORMED(f"{self.label} cannot contain control characters")
        if self.handle and not is_handle(value):
            raise errors.FIELD_MALFORMED(f"{self.label} can only contain {HANDLE_ALPHABET}")
        if self.lengths and not self.lengths[0] <= len(value) <= self.lengths[1]:
            low, high = self.lengths
            raise errors.FIELD_OUT_OF_RANGE(
                f"{self.label} cannot be less than {low} or over {high} characters" if low
                else f"{self.label} cannot be over {high} characters")
        if self.limit and len(value) > self.limit:
            raise errors.FIELD_OUT_OF_RANGE(f"{self.label} cannot be over {self.limit} "
                                            "characters on this platform")
        if self.kind == "email" and not is_email(value, max_length=EMAIL_MAX_LENGTH):
            raise errors.INVALID_EMAIL_FIELD()
        if self.kind == "url" and not _is_web_address(value):
            raise errors.FIELD_OUT_OF_RANGE(f"{self.label} must be an http(s) address")
        return value


    def documented(self) -> fields.Field:
        """The field as the OpenAPI document shows it, from these same rules."""
        low, high = self.lengths or (0, None)
        if self.limit:
            high = min(high or self.limit, self.limit)
        rules: list[Any] = [validate.Length(min=max(low, 1), max=high)]
        if self.handle:
            rules.append(HANDLE_CHARACTERS)
        if self.kind == "email":
            rules.append(validate.Email())
        metadata = {"description": self.description} if self.description else {}
        if self.kind == "url":
            metadata = {"format": "uri", "pattern": WEB_ADDRESS_PATTERN, **metadata}
        elif self.single_word and not self.handle:
            metadata = {"pattern": ONE_WORD_PATTERN, **metadata}
        # `check` takes null for an optional field left out: the document says so too.
        return Text(required=self.required, allow_none=not self.required, validate=rules,
                    metadata=metadata)


def schema(name: str, fields_: tuple[Field, ...]) -> type[Schema]:
    """A body's schema for the OpenAPI document (bodies are read by `read`, not by it)."""
    return Schema.from_dict({field.name: field.documented() for field in fields_}, name=name)


def _is_web_address(value: str) -> bool:
    """As the documented pattern says (a client generated from the spec checks it too)."""
    return re.fullmatch(WEB_ADDRESS_PATTERN, value) is not None


USERNAME = Field("username", "Username", lengths=(3, 100), limit=64, single_word=True,
                 handle=True, description=HANDLE_ALPHABET)
# Signing in names a handle already taken, which may predate the alphabet.
SIGN_IN_NAME = Field("username", "Username", lengths=(3, 100), limit=64, single_word=True,
                     description="no white space")
EMAIL = Field("email", "Email", kind="email")
PASSWORD = Field("password", "Password", lengths=(8, 200))
NAME = Field("name", "Name", required=False, lengths=(3, 150), limit=64,
             empty="name cannot be empty")
BIO = Field("bio", "Bio", required=False, lengths=(0, 200),
            empty="Password cannot be bio")  # sic: the document's sentence for an empty bio
PRONOUNCE = Field("pronounce", "Pronounce", required=False, limit=64)
WEBSITE = Field("website", "Website", required=False, limit=200, kind="url")
CODE = Field("code", "Code", required=False, limit=64, description="TOTP or backup code, "
             "when two-factor authentication is on (Tessera's)")
RESET_ID = Field("uuid", "UUID", lengths=(1, 128), description="the reset id from the mail")
NEW_PASSWORD = Field("newPassword", "Password", lengths=(8, 200))


def read(request: Request, fields: tuple[Field, ...], *, query: bool = False
         ) -> dict[str, Any]:
    """The body's fields by name, checked in order: a string each, None for an optional one
    left out (`query`: a field may also come as a parameter, as
    `/user/password-reset-token`'s email does). A body must be sent as JSON: a form or plain
    text could be posted by any other site's page (a sign-in planted in someone's browser)."""
    raw = request.get_data()
    body: Any = {}
    if raw.strip():
        if not request.is_json:
            raise errors.FIELD_MALFORMED("The body must be JSON (Content-Type: application/json)")
        try:
            body = client_json.loads(raw)
        except ValueError:
            raise errors.FIELD_MALFORMED("The body must be a JSON object") from None
    if not isinstance(body, dict):
        raise errors.FIELD_MALFORMED("The body must be a JSON object")
    given = {**(request.args if query else {}), **body}
    return {field.name: field.check(given.get(field.name)) for field in fields}
