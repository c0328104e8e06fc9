"""v0 profiles: public lookups, handle availability and the caller's own profile."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from tessera_shared.app import Blueprint, ErrorEnvelope
from tessera_shared.context import require_session
from tessera_shared.platform import platform
from tessera_shared.transactions import unit_of_work
from tessera_shared.validation import OmitNone, Schema, Text, Timestamp, not_blank
from user_service import follows, images, profiles
from user_service.extensions import accounts
from user_service.models import Profile, db

blp = Blueprint("v0-users", __name__, url_prefix="/v0", description="Profiles")

HANDLE_RULES = [validate.Length(min=3, max=20), not_blank]


class HandleArgs(Schema):
    handle = Text(required=True, validate=HANDLE_RULES)


class UserIdArgs(Schema):
    user_id = fields.UUID(required=True)


class PublicUserProfile(OmitNone):
    id = fields.String(required=True)
    handle = fields.String(required=True)
    display_name = fields.String(required=True)
    bio = fields.String()
    profile_image = fields.String()
    banner_image = fields.String()
    is_verified = fields.Boolean(required=True)
    created_at = Timestamp(required=True)
    followers_count = fields.Integer(required=True, metadata={"description": "beyond the "
                                                               "original"})
    following_count = fields.Integer(required=True)


class UserResponse(PublicUserProfile):
    email = fields.String(required=True)


class Availability(Schema):
    available = fields.Boolean(required=True)


@blp.route("/users/profile")
class ProfileByHandle(MethodView):
    @blp.arguments(HandleArgs, location="query", as_kwargs=True)
    @blp.response(200, PublicUserProfile)
    @blp.alt_response(404, schema=ErrorEnvelope, description="user:not_found")
    def get(self, handle: str) -> dict[str, Any]:
        """Get a user's public profile by handle."""
        return public(profiles.by_handle(db.session, handle))


@blp.route("/users/profile/id")
class ProfileById(MethodView):
    @blp.arguments(UserIdArgs, location="query", as_kwargs=True)
    @blp.response(200, PublicUserProfile)
    @blp.alt_response(404, schema=ErrorEnvelope, description="user:not_found")
    def get(self, user_id: Any) -> dict[str, Any]:
        """Get a user's public profile by id."""
        return public(profiles.by_id(db.session, str(user_id)))


@blp.route("/users/handle/<handle>/available")
class HandleAvailability(MethodView):
    @blp.arguments(HandleArgs, location="path", as_kwargs=True)
    @blp.response(200, Availability)
    def get(self, handle: str) -> dict[str, bool]:
        """Check whether a handle is free to take."""
        return {"available": profiles.handle_available(db.session, handle)}


class ProfileChanges(Schema):
    display_name = Text(allow_none=True, validate=[validate.Length(min=1, max=50), not_blank])
    bio = Text(allow_none=True, validate=[validate.Length(max=500), not_blank])


# What a public profile shows of the stored one (the counts come from the follows).
PROFILE_COLUMNS = tuple(name for name in PublicUserProfile().fields
                        if name not in {"followers_count", "following_count"})


def public(profile: Profile) -> dict[str, Any]:
    """The profile as `PublicUserProfile` shows it, with its follow counts."""
    counts = follows.counts(db.session, profile.id)
    return {**{name: getattr(profile, name) for name in PROFILE_COLUMNS},
            "followers_count": counts.followers, "following_count": counts.following}


def with_email(profile: Profile, *, image_urls: bool) -> dict[str, Any]:
    """The profile as `UserResponse` shows it: the email comes from auth-service. Like the
    original, `GET /user/me` shows images as full URLs and the PATCH answer as storage keys."""
    shown = public(profile)
    if image_urls:
        base = platform().settings.public_url
        for slot in ("profile_image", "banner_image"):
            shown[slot] = images.public_url(base, shown[slot])
    return {**shown, "email": accounts().get(profile.id).email}


@blp.route("/user/me")
class Me(MethodView):
    @blp.response(200, UserResponse)
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.requires("session")
    def get(self) -> dict[str, Any]:
        """Get the signed-in user's profile, with their email."""
        session = require_session()
        return with_email(profiles.by_id(db.session, session.user_id), image_urls=True)

    @blp.arguments(ProfileChanges, required=False)  # no body: nothing to change
    @blp.response(200, UserResponse)
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.requires("session")
    def patch(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Change the signed-in user's display name and/or bio (null or absent: unchanged)."""
        session = require_session()
        with unit_of_work(db.session):
            profile = profiles.update(db.session, session.user_id,
                                      display_name=changes.get("display_name"),
                                      bio=changes.get("bio"))
        return with_email(profile, image_urls=False)
