"""Internal API for the other services (HMAC-authenticated by the app base; never routed)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import Any

from flask import Blueprint, request
from marshmallow import ValidationError, fields, validate, validates_schema

from tessera_shared.app import PARSER
from tessera_shared.clients.profiles import NewProfile
from tessera_shared.errors import bad_request
from tessera_shared.transactions import unit_of_work
from tessera_shared.validation import Schema, Text
from user_service import images, media, profiles
from user_service.extensions import media_store
from user_service.models import Profile, db

blueprint = Blueprint("internal", __name__, url_prefix="/internal")


class NewProfileArgs(Schema):
    id = fields.UUID(required=True)
    handle = Text(required=True, validate=validate.Length(min=1, max=64))
    display_name = Text(required=True, validate=validate.Length(max=64))
    is_verified = fields.Boolean(load_default=False)
    bio = Text(allow_none=True, load_default=None)
    pronounce = Text(allow_none=True, load_default=None, validate=validate.Length(max=64))
    website = Text(allow_none=True, load_default=None, validate=validate.Length(max=200))


class NewImage(Schema):
    """An image for the profile slot, base64, and how to encode it (the registry's avatars)."""

    data = fields.String(required=True)
    max_side = fields.Integer(load_default=images.MAX_SIDE,
                              validate=validate.Range(min=16, max=images.MAX_SIDE))
    quality = fields.Integer(load_default=None, validate=validate.Range(min=1, max=100))


class ImageFit(Schema):
    image_side = fields.Integer(validate=validate.Range(min=16, max=images.MAX_SIDE))
    image_quality = fields.Integer(validate=validate.Range(min=1, max=100))

    @validates_schema
    def _both_or_neither(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if len(data) == 1:
            raise ValidationError("image_side and image_quality go together")


class ProfileChanges(Schema):
    handle = Text(validate=validate.Length(min=1, max=64))
    display_name = Text(validate=validate.Length(max=64))
    bio = Text(allow_none=True)
    status = Text(allow_none=True, validate=validate.Length(max=64))
    image = fields.Nested(NewImage, allow_none=True)


def _shown(profile: Profile) -> dict[str, Any]:
    """A profile, with its image's bytes when `?image_side=&image_quality=` ask for them
    (scaled to fit that side if larger: the registry's avatars)."""
    shown: dict[str, Any] = {
        "id": profile.id, "handle": profile.handle, "display_name": profile.display_name,
        "bio": profile.bio, "status": profile.status, "profile_image": profile.profile_image,
        "created_at": profile.created_at.isoformat()}
    fit = PARSER.parse(ImageFit(), location="query")
    if fit:
        data = profile.profile_image and images.fitted(
            media_store(), profile.profile_image, fit["image_side"], fit["image_quality"])
        shown["image"] = data and {"type": "webp" if data[8:12] == b"WEBP" else "gif",
                                   "data": base64.b64encode(data).decode()}
    return shown


def _stored_image(new: dict[str, Any], owner: str) -> str:
    try:
        data = base64.b64decode(new["data"], validate=True)
    except (binascii.Error, ValueError):
        raise bad_request("The image is not base64.") from None
    slot = dataclasses.replace(images.PROFILE, max_side=new["max_side"],
                               quality=new["quality"], keep_gif=False)
    encoded, extension = images.process(data, slot)
    return images.store(media_store(), encoded, extension, owner=owner)


@blueprint.post("/profiles")
@PARSER.use_args(NewProfileArgs(), location="json")
def create_profile(new: dict[str, Any]) -> tuple[dict[str, str], int]:
    with unit_of_work(db.session):
        profile = profiles.create(db.session, NewProfile(**{**new, "id": str(new["id"])}))
    return {"id": profile.id, "handle": profile.handle}, 201


@blueprint.get("/profiles")
def find_profile() -> dict[str, Any]:
    """The profile holding `?handle=` (without regard to case)."""
    return _shown(profiles.by_handle(db.session, request.args.get("handle", "")))


@blueprint.get("/profiles/any")
def any_profile() -> dict[str, bool]:
    """Whether the platform has any user at all (every account and keyholder has a profile)."""
    return {"any": profiles.any_exists(db.session)}


@blueprint.get("/profiles/<user_id>")
def get_profile(user_id: str) -> dict[str, Any]:
    """A profile."""
    return _shown(profiles.by_id(db.session, user_id))


@blueprint.patch("/profiles/<user_id>")
@PARSER.use_args(ProfileChanges(), location="json")
def edit_profile(changes: dict[str, Any], user_id: str) -> dict[str, Any]:
    """Change fields of a profile (and its image) in one transaction."""
    if "image" in changes:
        image = changes.pop("image")
        changes["profile_image"] = None if image is None else _stored_image(image, user_id)
    with media.unit_of_work(db.session, media_store()):
        profile = profiles.edit(db.session, user_id, changes)
    return _shown(profile)


@blueprint.post("/profiles/<user_id>/verified")
def mark_verified(user_id: str) -> tuple[str, int]:
    """Auth proved the account's address: the profile says so from now on."""
    with unit_of_work(db.session):
        profiles.mark_verified(db.session, user_id)
    return "", 204


@blueprint.delete("/profiles/<user_id>")
def delete_profile(user_id: str) -> tuple[str, int]:
    with media.unit_of_work(db.session, media_store()):
        profiles.delete(db.session, user_id)
    return "", 204
