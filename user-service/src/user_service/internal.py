"""Internal API for the other services (HMAC-authenticated by the app base; never routed)."""

from __future__ import annotations

from flask import Blueprint, request
from marshmallow import ValidationError, fields, validate

from tessera_shared.errors import bad_request
from tessera_shared.validation import Schema, Text
from user_service import profiles
from user_service.models import db

blueprint = Blueprint("internal", __name__, url_prefix="/internal")


class NewProfile(Schema):
    id = fields.UUID(required=True)
    handle = Text(required=True, validate=validate.Length(min=1, max=64))
    display_name = Text(required=True, validate=validate.Length(min=1, max=64))
    is_verified = fields.Boolean(load_default=False)


@blueprint.post("/profiles")
def create_profile() -> tuple[dict[str, str], int]:
    try:
        new = NewProfile().load(request.get_json(silent=True) or {})
    except ValidationError as error:
        raise bad_request(str(error.messages)) from None
    profile = profiles.create(db.session, user_id=str(new["id"]), handle=new["handle"],
                              display_name=new["display_name"], is_verified=new["is_verified"])
    db.session.commit()
    return {"id": profile.id, "handle": profile.handle}, 201


@blueprint.delete("/profiles/<user_id>")
def delete_profile(user_id: str) -> tuple[str, int]:
    profiles.delete(db.session, user_id)
    db.session.commit()
    return "", 204
