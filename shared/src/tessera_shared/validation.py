"""Request bodies: marshmallow schemas, and the rule that sorts a failure into the two
v0 error codes — the shape was wrong (`general:bad_request`) or a value broke a rule
(`general:validation_error`)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import marshmallow as ma
from marshmallow import fields

from tessera_shared.clock import rfc3339
from tessera_shared.errors import DomainError, bad_request, validation_error


class Schema(ma.Schema):
    """Unknown fields are ignored, as the original APIs' deserialisers do."""

    class Meta:
        unknown = ma.EXCLUDE


# The same rules as the OpenAPI document states them (`printable`, and `not_blank` with it):
# the control characters, in `\x` escapes, which every regex dialect reads alike (a lone
# surrogate cannot be spelled so; `printable` refuses those too).
_CONTROL = r"\x00-\x1f\x7f-\x9f"
# What str.isspace() calls white space beyond those, as the characters themselves: a reader
# may take `\s` as ASCII only.
_SPACES = "\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
PRINTABLE_PATTERN = f"^[^{_CONTROL}]*$"
PRINTABLE_NOT_BLANK_PATTERN = f"^[^{_CONTROL}]*[^{_CONTROL}{_SPACES}][^{_CONTROL}]*$"
ONE_WORD_PATTERN = f"^[^{_CONTROL}{_SPACES}]*$"  # printable, and no white space at all

# What marshmallow's address check asks beyond the format's grammar: a top-level domain of two
# characters or more (a@b.c is refused).
EMAIL_PATTERN = r"\.[A-Za-z0-9-]{2,}$"
# An http(s) address with a host, as `is_web_address` takes it.
WEB_ADDRESS_PATTERN = (r"^https?://[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{1,5})?"
                       r"([/?#][^\x00-\x20\x7f-\x9f]*)?$")


class Text(fields.String):
    """A string that a database can store and a person can read: no NUL or other control
    characters, no lone surrogates (both make PostgreSQL refuse the row). The OpenAPI
    document says so as a pattern, unless the field has a stricter one of its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.validators.insert(0, printable)
        if any(isinstance(rule, ma.validate.Email) for rule in self.validators):
            self.metadata = {"format": "email", "pattern": EMAIL_PATTERN, **self.metadata}
        elif not any(isinstance(rule, ma.validate.Regexp) for rule in self.validators):
            pattern = (PRINTABLE_NOT_BLANK_PATTERN if not_blank in self.validators
                       else PRINTABLE_PATTERN)
            self.metadata = {"pattern": pattern, **self.metadata}


def printable(value: str) -> None:
    """Validator: no control characters or lone surrogates."""
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in value):
        raise ma.ValidationError("Must not contain control characters.")


def is_email(value: str, *, max_length: int = 254) -> bool:
    """Whether `value` is an address the platform can store (a provider's, a plain field's)."""
    try:
        ma.validate.Email()(value)
    except ma.ValidationError:
        return False
    return len(value) <= max_length


# A handle is one name in every family, so it takes the narrowest alphabet any family's clients
# expect (registry clients: a-z, 0-9 and _; case is kept but never tells two handles apart).
# Nothing in it can pass for another handle: no accents, look-alike scripts, full-width forms,
# spaces or invisible characters.
HANDLE_PATTERN = "^[A-Za-z0-9_]+$"
HANDLE_ALPHABET = "the letters a-z and A-Z, the digits 0-9 and _"
HANDLE_CHARACTERS = ma.validate.Regexp(HANDLE_PATTERN,
                                       error=f"A handle may hold only {HANDLE_ALPHABET}.")


def is_handle(value: str) -> bool:
    return _HANDLE.fullmatch(value) is not None  # fullmatch: "$" alone lets a final "\n" by


_HANDLE = re.compile(HANDLE_PATTERN)


def not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


def _shape_is_wrong(schema: ma.Schema, data: Any, messages: Any) -> bool:
    """True when a failed field is missing or of the wrong type, not merely out of its rules."""
    if not isinstance(data, dict) or not isinstance(messages, dict) or "_schema" in messages:
        return True
    for name in messages:
        field = schema.fields.get(name)
        if field is None or name not in data or data[name] is None:
            return True
        try:
            field._deserialize(data[name], name, data)
        except ma.ValidationError:
            return True
    return False


def classify(schema: ma.Schema | None, data: Any, messages: Any) -> DomainError:
    """The domain error for a schema that refused a body."""
    summary = _summarise(messages)
    if schema is None or _shape_is_wrong(schema, data, messages):
        return bad_request(summary)
    return validation_error(summary)


def _summarise(messages: Any) -> str:
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {_summarise(value)}" for key, value in messages.items())
    if isinstance(messages, list):
        return " ".join(str(message) for message in messages)
    return str(messages)


class Timestamp(fields.DateTime):
    """RFC 3339 in UTC with a `Z`, as the original APIs write times."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else rfc3339(value)


class OmitNone(Schema):
    """Optional fields are left out of a response when they have no value."""

    @ma.post_dump
    def _drop_none(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return {key: value for key, value in data.items() if value is not None}
