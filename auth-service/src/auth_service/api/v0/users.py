"""v0 sign-up: `POST /v0/users`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields

from auth_service.accounts import SignUp
from auth_service.api.v0.rules import EMAIL, HANDLE, NAME, NEW_PASSWORD
from auth_service.extensions import accounts, email_flows
from tessera_shared.app import Blueprint, ErrorEnvelope
from tessera_shared.context import requesting_client
from tessera_shared.validation import Schema, Text

blp = Blueprint("v0-signup", __name__, url_prefix="/v0", description="Sign-up")


class SignUpRequest(Schema):
    email = Text(required=True, validate=EMAIL)
    handle = Text(required=True, validate=HANDLE)
    display_name = Text(required=True, validate=NAME)
    # v0's original allowed 6-20 characters; the core policy asks 8 and allows 200.
    password = Text(required=True, validate=NEW_PASSWORD)


class Message(Schema):
    message = fields.String(required=True)


CREATED = "User created successfully. Please check your email to verify your account."


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(SignUpRequest)
    @blp.response(201, Message)
    @blp.alt_response(409, schema=ErrorEnvelope,
                      description="user:email_already_exists, then user:handle_already_exists")
    @blp.alt_response(429, schema=ErrorEnvelope, description="rate_limit:exceeded: too many "
                      "sign-ups from this address in the last hour (SIGN_UPS_PER_ADDRESS)")
    def post(self, body: dict[str, Any]) -> dict[str, str]:
        """Register a user with email, handle, display name and password."""
        accounts().sign_up(SignUp(**body), requesting_client(),
                           welcome=email_flows().send_verification)
        return {"message": CREATED}
