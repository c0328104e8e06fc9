"""v0 user search: `GET /v0/search/users`."""

from __future__ import annotations

import math
from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from tessera_shared.app import Blueprint
from tessera_shared.validation import OmitNone, Schema, Text, not_blank
from user_service import search
from user_service.models import db

blp = Blueprint("v0-search", __name__, url_prefix="/v0/search", description="Search")


class SearchArgs(Schema):
    query = Text(validate=[validate.Length(max=100), not_blank],
                 metadata={"description": "words that begin a handle, name or bio word; "
                                          "leave it out to list everyone"})
    page = fields.Integer(required=True, validate=validate.Range(min=1, max=1000))
    page_size = fields.Integer(required=True, validate=validate.Range(min=1, max=20))


class UserSummary(OmitNone):
    """A user in a list (search results, follows)."""

    id = fields.String(required=True)
    handle = fields.String(required=True)
    display_name = fields.String(required=True)
    bio = fields.String()
    profile_image = fields.String()


class SearchResults(Schema):
    users = fields.List(fields.Nested(UserSummary), required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total_hits = fields.Integer(required=True)
    total_pages = fields.Integer(required=True)


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(SearchArgs, location="query")
    @blp.response(200, SearchResults)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Search users by handle, display name and bio, best matches first."""
        page, page_size = args["page"], args["page_size"]
        found = search.search(db.session, args.get("query"), page=page, page_size=page_size)
        return {"users": found.profiles, "page": page, "page_size": page_size,
                "total_hits": found.total, "total_pages": math.ceil(found.total / page_size)}
