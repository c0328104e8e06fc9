"""v0 password authentication: `POST /v0/auth/login`, `/logout`, and `/reauthenticate`
before a sensitive change."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, request
from flask.views import MethodView
from marshmallow import fields

from auth_service import authentication
from auth_service.api.v0.cookies import clear_session_cookie, signed_in_response
from auth_service.api.v0.rules import CODE, EMAIL, PASSWORD
from auth_service.extensions import authenticator
from tessera_shared.app import Blueprint, ErrorEnvelope, no_content
from tessera_shared.context import client_ip, requesting_client, require_session
from tessera_shared.sessions import COOKIE_NAME
from tessera_shared.validation import Schema, Text

blp = Blueprint("v0-auth", __name__, url_prefix="/v0/auth", description="Authentication")


class LoginRequest(Schema):
    email = Text(required=True, validate=EMAIL)
    password = Text(required=True, validate=PASSWORD)
    remember_me = fields.Boolean(load_default=False)


class TempToken(Schema):
    temp_token = fields.String(required=True)


@blp.route("/login")
class LoginView(MethodView):
    @blp.arguments(LoginRequest)
    @blp.response(204)
    @blp.alt_response(202, schema=TempToken,
                      description="TOTP is on: send the temp token and a code to /totp/verify")
    @blp.alt_response(401, schema=ErrorEnvelope, description="auth:invalid_credentials")
    def post(self, body: dict[str, Any]) -> Response:
        """Sign in with email and password; sets the `session_id` cookie."""
        outcome = authenticator().log_in(
            authentication.Login(**body),
            requesting_client(),
            replacing=request.cookies.get(COOKIE_NAME))
        if isinstance(outcome, authentication.SecondFactorRequired):
            return make_response({"temp_token": outcome.temp_token}, 202)
        return signed_in_response(outcome)


@blp.route("/logout")
class LogoutView(MethodView):
    @blp.response(204)
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.requires("session")
    def post(self) -> Response:
        """End the current session and clear its cookie."""
        require_session()
        authenticator().log_out(request.cookies[COOKIE_NAME], ip=client_ip())
        response = no_content()
        clear_session_cookie(response)
        return response


class ReauthenticateRequest(Schema):
    password = Text(required=True, validate=PASSWORD)
    code = Text(validate=CODE, metadata={"description": "TOTP or backup code; required when "
                                                        "TOTP is on"})


@blp.route("/reauthenticate")
class ReauthenticateView(MethodView):
    @blp.arguments(ReauthenticateRequest)
    @blp.response(204)
    @blp.alt_response(401, schema=ErrorEnvelope,
                      description="user:unauthorized, user:invalid_password, totp:code_required")
    @blp.alt_response(400, schema=ErrorEnvelope, description="totp:invalid_code")
    @blp.requires("session")
    def post(self, body: dict[str, Any]) -> Response:
        """Prove it is you again; for the next 10 minutes this session may change the
        second factor or delete the account."""
        record = require_session()
        authenticator().reauthenticate(record, request.cookies[COOKIE_NAME],
                                       password=body["password"], code=body.get("code"),
                                       ip=client_ip())
        return no_content()
