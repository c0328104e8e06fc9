"""v0 profile and banner images: upload (multipart field `file`) and removal."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import fields
from werkzeug.datastructures import FileStorage

from tessera_shared import limits
from tessera_shared.app import Blueprint, ErrorEnvelope, no_content
from tessera_shared.context import require_session
from tessera_shared.platform import platform
from tessera_shared.validation import Schema
from user_service import images, media, profiles
from user_service.extensions import media_store
from user_service.models import db

blp = Blueprint("v0-images", __name__, url_prefix="/v0/user/me", description="Profile images")

SLOTS = {"profile-image": images.PROFILE, "banner-image": images.BANNER}


class ImageForm(Schema):
    file = Upload(required=True)


class ImageUrl(Schema):
    image_url = fields.String(required=True)


@blp.before_request
def _allow_the_slots_size() -> None:
    slot = SLOTS.get(request.path.rsplit("/", 1)[-1])
    if slot is not None:
        request.max_content_length = slot.max_bytes + limits.FORM_SLACK


def upload(slot: images.Slot, file: FileStorage) -> dict[str, str]:
    session = require_session()
    data, extension = images.process(file.read(slot.max_bytes + 1), slot)
    key = images.store(media_store(), data, extension, owner=session.user_id)
    with media.unit_of_work(db.session, media_store()):
        profiles.set_image(db.session, session.user_id, slot.column, key)
    return {"image_url": images.public_url(platform().settings.public_url, key)}


def remove(slot: images.Slot) -> Any:
    session = require_session()
    with media.unit_of_work(db.session, media_store()):
        profiles.set_image(db.session, session.user_id, slot.column, None)
    return no_content()


@blp.route("/profile-image")
class ProfileImage(MethodView):
    @blp.arguments(ImageForm, location="files", as_kwargs=True)
    @blp.response(201, ImageUrl)
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.requires("session")
    def post(self, file: FileStorage) -> dict[str, str]:
        """Upload a profile image: JPEG, PNG, GIF or WebP up to 4 MiB."""
        return upload(images.PROFILE, file)

    @blp.response(204)
    @blp.alt_response(404, schema=ErrorEnvelope, description="system:not_found")
    @blp.requires("session")
    def delete(self) -> Any:
        """Remove the profile image."""
        return remove(images.PROFILE)


@blp.route("/banner-image")
class BannerImage(MethodView):
    @blp.arguments(ImageForm, location="files", as_kwargs=True)
    @blp.response(201, ImageUrl)
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.requires("session")
    def post(self, file: FileStorage) -> dict[str, str]:
        """Upload a banner image: JPEG, PNG, GIF or WebP up to 8 MiB."""
        return upload(images.BANNER, file)

    @blp.response(204)
    @blp.alt_response(404, schema=ErrorEnvelope, description="system:not_found")
    @blp.requires("session")
    def delete(self) -> Any:
        """Remove the banner image."""
        return remove(images.BANNER)
