"""v0 social sign-in: `/v0/auth/oauth/{google,github}/authorize|login|link`, the linked
connections, and `/v0/auth/complete-signup` for a new identity's handle (see docs/oauth.md)."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, request
from flask.views import MethodView
from marshmallow import fields, validate

from auth_service.api.v0.auth import TempToken
from auth_service.api.v0.cookies import signed_in_response
from auth_service.api.v0.rules import HANDLE
from auth_service.authentication import REAUTHENTICATE, SecondFactorRequired
from auth_service.extensions import social
from auth_service.social import Callback, Flow, Label, PendingSignUp
from tessera_shared.app import Blueprint, ErrorEnvelope, no_content
from tessera_shared.context import (
    browser_id,
    client_ip,
    current_session,
    requesting_client,
    require_session,
)
from tessera_shared.sessions import COOKIE_NAME
from tessera_shared.validation import Schema, Text, Timestamp

blp = Blueprint("v0-oauth", __name__, url_prefix="/v0/auth", description="OAuth")

PROVIDER = "<any(google, github):provider>"
STATE_ERRORS = ("oauth:invalid_state, oauth:token_exchange_failed, "
                "oauth:user_info_fetch_failed, oauth:email_not_verified, "
                "general:bad_request, general:validation_error")
TOKEN = validate.Length(min=1, max=2048)


class AuthorizeQuery(Schema):
    flow = fields.Enum(Flow, by_value=True, load_default=Flow.LOGIN,
                       metadata={"description": "what the code will be used for"})


class AuthUrl(Schema):
    auth_url = fields.String(required=True, metadata={
        "description": "the provider's consent page, with the state and a PKCE S256 "
                       "challenge; it sends the browser back to "
                       "{PUBLIC_URL}/oauth/{provider}/callback?code=...&state=..."})


class CodeAndState(Schema):
    code = Text(required=True, validate=TOKEN)
    state = Text(required=True, validate=TOKEN)


class PendingSignUpView(Schema):
    pending_token = fields.String(required=True)
    email = fields.String(required=True)
    display_name = fields.String(required=True)


class CompleteSignUp(Schema):
    pending_token = Text(required=True, validate=TOKEN)
    handle = Text(required=True, validate=HANDLE)


class ConnectionView(Schema):
    provider = fields.Enum(Label, required=True, metadata={"description": "as the original "
                                                            "API names them"})
    created_at = Timestamp(required=True)


class ConnectionList(Schema):
    connections = fields.List(fields.Nested(ConnectionView), required=True)


class UnlinkRequest(Schema):
    provider = fields.Enum(Label, required=True)


class ProviderList(Schema):
    providers = fields.List(fields.String(), required=True, metadata={
        "description": "names as in the paths: google, github"})


@blp.route("/oauth/providers")
class Providers(MethodView):
    @blp.response(200, ProviderList)
    def get(self) -> dict[str, list[str]]:
        """The providers this platform signs in with (beyond the original API)."""
        return {"providers": social().enabled()}


def _callback(body: dict[str, Any]) -> Callback:
    return Callback(body["code"], body["state"], browser=browser_id())


@blp.route(f"/oauth/{PROVIDER}/authorize")
class Authorize(MethodView):
    @blp.arguments(AuthorizeQuery, location="query")
    @blp.response(200, AuthUrl)
    @blp.alt_response(401, schema=ErrorEnvelope,
                      description="user:unauthorized (flow=link takes a session)")
    @blp.alt_response(404, schema=ErrorEnvelope, description="system:not_found (the provider "
                      "is not enabled here)")
    @blp.alt_response(429, schema=ErrorEnvelope, description="rate_limit:exceeded")
    @blp.alt_response(502, schema=ErrorEnvelope, description="oauth:provider_unavailable")
    def get(self, query: dict[str, Any], provider: str) -> Response:
        """Start signing in (or linking, signed in) with Google or GitHub: the URL to send the
        browser to; the attempt lasts 5 minutes, in this browser only."""
        url = social().authorize(provider, query["flow"], browser=browser_id(), ip=client_ip(),
                                 linking=current_session())
        response = make_response({"auth_url": url})
        response.headers["Cache-Control"] = "no-store"  # the URL carries the attempt's state
        return response


@blp.route(f"/oauth/{PROVIDER}/login")
class Login(MethodView):
    @blp.arguments(CodeAndState)
    @blp.response(204, description="signed in: the `session_id` cookie is set (remembered)")
    @blp.alt_response(200, schema=PendingSignUpView, description="a new identity: choose a "
                      "handle with POST /v0/auth/complete-signup within 10 minutes")
    @blp.alt_response(202, schema=TempToken, description="TOTP is on: send the temp token "
                      "and a code to /v0/auth/totp/verify")
    @blp.alt_response(400, schema=ErrorEnvelope, description=STATE_ERRORS)
    @blp.alt_response(409, schema=ErrorEnvelope, description="oauth:email_already_exists")
    @blp.alt_response(502, schema=ErrorEnvelope, description="oauth:provider_unavailable")
    def post(self, body: dict[str, Any], provider: str) -> Response:
        """Finish signing in with the code and state the provider sent back."""
        outcome = social().log_in(provider, _callback(body), requesting_client(),
                                  replacing=request.cookies.get(COOKIE_NAME))
        if isinstance(outcome, PendingSignUp):
            return make_response({"pending_token": outcome.token, "email": outcome.email,
                                  "display_name": outcome.display_name}, 200)
        if isinstance(outcome, SecondFactorRequired):
            return make_response({"temp_token": outcome.temp_token}, 202)
        return signed_in_response(outcome)


@blp.route("/complete-signup")
class CompleteSignUpView(MethodView):
    @blp.arguments(CompleteSignUp)
    @blp.response(204, description="the account exists and is signed in")
    @blp.alt_response(400, schema=ErrorEnvelope, description="general:bad_request (also: "
                      "another completion of this sign-up is running), "
                      "general:validation_error")
    @blp.alt_response(401, schema=ErrorEnvelope,
                      description="user:token_expired, user:invalid_token")
    @blp.alt_response(409, schema=ErrorEnvelope, description="user:handle_already_exists, "
                      "oauth:email_already_exists, oauth:account_already_linked")
    @blp.alt_response(429, schema=ErrorEnvelope, description="rate_limit:exceeded: too many "
                      "sign-ups from this address in the last hour (SIGN_UPS_PER_ADDRESS)")
    def post(self, body: dict[str, Any]) -> Response:
        """Create the account of a new Google or GitHub identity with the chosen handle, in
        the browser that signed in."""
        signed_in = social().complete_sign_up(
            body["pending_token"], body["handle"], requesting_client(), browser=browser_id(),
            replacing=request.cookies.get(COOKIE_NAME))
        return signed_in_response(signed_in)


@blp.route(f"/oauth/{PROVIDER}/link")
class Link(MethodView):
    @blp.arguments(CodeAndState)
    @blp.response(204)
    @blp.alt_response(400, schema=ErrorEnvelope, description=STATE_ERRORS)
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.alt_response(403, schema=ErrorEnvelope, description=REAUTHENTICATE)
    @blp.alt_response(409, schema=ErrorEnvelope, description="oauth:account_already_linked")
    @blp.alt_response(502, schema=ErrorEnvelope, description="oauth:provider_unavailable")
    @blp.requires("session")
    def post(self, body: dict[str, Any], provider: str) -> Response:
        """Link the Google or GitHub account the code is for to the signed-in account (from
        an attempt started with `flow=link`)."""
        social().link(require_session(), provider, _callback(body), ip=client_ip())
        return no_content()


@blp.route("/oauth/connections")
class Connections(MethodView):
    @blp.response(200, ConnectionList)
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.requires("session")
    def get(self) -> dict[str, Any]:
        """List the providers linked to the signed-in account, oldest first."""
        return {"connections": social().connections(require_session().user_id)}


@blp.route("/oauth/connections/unlink")
class Unlink(MethodView):
    @blp.arguments(UnlinkRequest)
    @blp.response(204)
    @blp.alt_response(400, schema=ErrorEnvelope, description="oauth:cannot_unlink_last_"
                      "connection, general:bad_request (a provider not named Google or Github)")
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.alt_response(403, schema=ErrorEnvelope, description=REAUTHENTICATE)
    @blp.alt_response(404, schema=ErrorEnvelope, description="oauth:connection_not_found")
    @blp.requires("session")
    def post(self, body: dict[str, Any]) -> Response:
        """Unlink a provider from the signed-in account, unless it is the last way to sign
        in."""
        social().unlink(require_session(), body["provider"], ip=client_ip())
        return no_content()
