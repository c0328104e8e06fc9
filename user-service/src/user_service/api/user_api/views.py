"""The user API's profile (document 003): `GET /user/profile/<username>`."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from tessera_shared.app import Blueprint, UserApiEnvelope, user_api_answer
from tessera_shared.families import user_api_profile
from user_service import follows, profiles
from user_service.models import db

blp = Blueprint("user-api-profiles", __name__, url_prefix="/user",
                description="User API (document 003)")


@blp.route("/profile/<path:username>")
class Profile(MethodView):
    @blp.response(200, UserApiEnvelope, description="`message` is the username; `data` the "
                  "profile: username, name, bio, website, pronounce (\"\" when unset), and "
                  "the numbers of followers and following")
    @blp.alt_response(404, schema=UserApiEnvelope, description='User not found, data "false"')
    def get(self, username: str) -> Response:
        """A user's profile by username."""
        profile = profiles.named(db.session, username)
        if profile is None:
            return user_api_answer(404, "User not found", "false")
        counts = follows.counts(db.session, profile.id)
        return user_api_answer(200, profile.handle, user_api_profile(
            {"username": profile.handle, "name": profile.display_name, "bio": profile.bio,
             "website": profile.website, "pronounce": profile.pronounce},
            followers=counts.followers, following=counts.following))
