"""What the registry REST API takes and answers, for its OpenAPI document. Bodies are read
leniently by the views (as the original reads them), so these schemas document; they do not
parse."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from tessera_shared.app import RegistryLog
from tessera_shared.validation import Schema


def json_body(schema: type[Schema]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def header(name: str, description: str) -> dict[str, Any]:
    return {"in": "header", "name": name, "required": True, "schema": {"type": "string"},
            "description": description}


OMIKRON = header("Authorization", "the Omikron's REST id, raw (no `Bearer`)")


class Done(Schema):
    type = fields.Constant("success", required=True)
    log = fields.Nested(RegistryLog, required=True)


class UserIdData(Schema):
    user_id = fields.String(required=True)


class PublicUser(Schema):
    created_at = fields.Integer(required=True, metadata={"description": "milliseconds"})
    username = fields.String(required=True)
    display = fields.String(required=True)
    avatar = fields.String(required=True, allow_none=True,
                           metadata={"example": "data:image/webp;base64,UklGR..."})
    about = fields.String(required=True)
    status = fields.String(required=True)
    public_key = fields.String(required=True, allow_none=True)
    sub_level = fields.Integer(required=True, metadata={"description": "0 free, 1 premium"})
    sub_end = fields.Integer(required=True, metadata={"description": "days left"})


class ChangedUser(PublicUser):
    uuid = fields.String(required=True)
    iota_id = fields.String(required=True)


class MatchesData(Schema):
    matches = fields.Boolean(required=True)


class IotaIdData(Schema):
    iota_id = fields.String(required=True)


class UserIdAnswer(Done):
    data = fields.Nested(UserIdData, required=True)


class UserAnswer(Done):
    data = fields.Nested(PublicUser, required=True)


class ChangedAnswer(Done):
    data = fields.Nested(ChangedUser, required=True)


class MatchesAnswer(Done):
    data = fields.Nested(MatchesData, required=True)


class IotaIdAnswer(Done):
    data = fields.Nested(IotaIdData, required=True)


class ProfileChange(Schema):
    private_key_hash = fields.String(required=True, metadata={"description": "hex SHA-256"})
    username = fields.String()
    display = fields.String(allow_none=True)
    avatar = fields.String(allow_none=True, metadata={"description": "base64 or a data URI"})
    about = fields.String(allow_none=True)
    status = fields.String(allow_none=True)


class IotaChange(Schema):
    iota_id = fields.String(required=True)
    reset_token = fields.String(required=True)
    new_token = fields.String(required=True)


class KeysChange(Schema):
    private_key_hash = fields.String(required=True)
    public_key = fields.String(required=True)
    reset_token = fields.String(required=True)
    new_token = fields.String(required=True)


class Registration(Schema):
    uuid = fields.String(required=True, metadata={"description": "from register/init"})
    username = fields.String(required=True)
    public_key = fields.String(required=True)
    private_key_hash = fields.String(required=True)
    iota_id = fields.String(required=True)
    reset_token = fields.String(required=True)


class Deletion(Schema):
    reset_token = fields.String(required=True)
