"""v0 follows (beyond the original): follow and unfollow a user, and page through who
follows them and whom they follow."""

from __future__ import annotations

import math
from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from tessera_shared.app import Blueprint, ErrorEnvelope, no_content
from tessera_shared.context import require_session
from tessera_shared.platform import platform
from tessera_shared.sessions import SessionRecord
from tessera_shared.throttle import FOLLOW_CHANGES_PER_ACCOUNT
from tessera_shared.transactions import unit_of_work
from tessera_shared.validation import Schema
from user_service import errors, follows
from user_service.api.v0.user_search import UserSummary
from user_service.api.v0.users import UserIdArgs
from user_service.models import db

blp = Blueprint("v0-follows", __name__, url_prefix="/v0/users", description="Follows")


class SidePath(UserIdArgs):
    side = fields.Enum(follows.Side, by_value=True, required=True)


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class FollowPage(Schema):
    users = fields.List(fields.Nested(UserSummary), required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)
    total_pages = fields.Integer(required=True)


def _changing_follows() -> SessionRecord:
    """The signed-in user, within their hourly budget of follow changes."""
    record = require_session()
    if not platform().throttle.take(FOLLOW_CHANGES_PER_ACCOUNT, record.user_id):
        raise errors.TOO_MANY_FOLLOW_CHANGES()
    return record


class Following(Schema):
    following = fields.Boolean(required=True)


@blp.route("/<user_id>/follow")
class Follow(MethodView):
    @blp.arguments(UserIdArgs, location="path", as_kwargs=True)
    @blp.response(200, Following)
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.requires("session")
    def get(self, user_id: Any) -> dict[str, bool]:
        """Whether the signed-in user follows this user."""
        record = require_session()
        return {"following": follows.follows(db.session, record.user_id, str(user_id))}

    @blp.arguments(UserIdArgs, location="path", as_kwargs=True)
    @blp.response(204)
    @blp.alt_response(400, schema=ErrorEnvelope, description="user:cannot_follow_self")
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.alt_response(404, schema=ErrorEnvelope, description="user:not_found")
    @blp.alt_response(429, schema=ErrorEnvelope, description="rate_limit:exceeded")
    @blp.requires("session")
    def post(self, user_id: Any) -> Any:
        """Follow a user (following them already changes nothing)."""
        record = _changing_follows()
        with unit_of_work(db.session):
            follows.follow(db.session, record.user_id, str(user_id))
        return no_content()

    @blp.arguments(UserIdArgs, location="path", as_kwargs=True)
    @blp.response(204)
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.alt_response(429, schema=ErrorEnvelope, description="rate_limit:exceeded")
    @blp.requires("session")
    def delete(self, user_id: Any) -> Any:
        """Stop following a user (not following them changes nothing)."""
        record = _changing_follows()
        with unit_of_work(db.session):
            follows.unfollow(db.session, record.user_id, str(user_id))
        return no_content()


@blp.route("/<user_id>/<any(followers, following):side>")
class FollowList(MethodView):
    @blp.arguments(SidePath, location="path", as_kwargs=True)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, FollowPage)
    @blp.alt_response(404, schema=ErrorEnvelope, description="user:not_found")
    def get(self, args: dict[str, Any], user_id: Any, side: follows.Side) -> dict[str, Any]:
        """Who follows a user (`followers`) or whom they follow (`following`), most recent
        first."""
        page, page_size = args["page"], args["page_size"]
        found = follows.listed(db.session, str(user_id), side, page=page, page_size=page_size)
        return {"users": found.profiles, "page": page, "page_size": page_size,
                "total": found.total, "total_pages": math.ceil(found.total / page_size)}
