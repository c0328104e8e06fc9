"""v0 passkeys (beyond the original API): `/v0/auth/passkeys` to register and keep them,
`/v0/auth/login/passkey` to sign in with one (see docs/passkeys.md)."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, request
from flask.views import MethodView
from marshmallow import fields, validate

from auth_service import passkeys as domain
from auth_service.api.v0.auth import TempToken
from auth_service.api.v0.cookies import signed_in_response
from auth_service.authentication import REAUTHENTICATE, SecondFactorRequired
from auth_service.extensions import passkeys
from auth_service.models import PASSKEY_NAME_MAX_LENGTH, Passkey
from tessera_shared.app import Blueprint, ErrorEnvelope, no_content
from tessera_shared.context import browser_id, client_ip, requesting_client, require_session
from tessera_shared.sessions import COOKIE_NAME
from tessera_shared.validation import Schema, Text, Timestamp, not_blank

blp = Blueprint("v0-passkeys", __name__, url_prefix="/v0/auth", description="Passkeys")

NAME = [validate.Length(min=1, max=PASSKEY_NAME_MAX_LENGTH), not_blank]
TEMP_TOKEN = validate.Length(min=1, max=256)
CREDENTIAL = ("the PublicKeyCredential the browser answered with, as its toJSON() gives it "
              "(id, rawId, type, response with base64url fields)")
ANSWER_ERRORS = ("passkey:invalid_challenge (unknown, used, expired or from another browser), "
                 "general:bad_request (a credential no browser writes)")


class PasskeyCreationOptions(Schema):
    rp = fields.Dict(required=True, metadata={"description": "id (from PUBLIC_URL) and name"})
    user = fields.Dict(required=True)
    challenge = fields.String(required=True, metadata={
        "description": "base64url; single use, for 5 minutes, in this browser only"})
    pubKeyCredParams = fields.List(fields.Dict(), required=True)  # noqa: N815  # WebAuthn's
    timeout = fields.Integer(required=True)
    excludeCredentials = fields.List(fields.Dict(), required=True)  # noqa: N815
    authenticatorSelection = fields.Dict(required=True)  # noqa: N815
    attestation = fields.String(required=True)


class PasskeyRequestOptions(Schema):
    challenge = fields.String(required=True, metadata={
        "description": "base64url; single use, for 5 minutes, in this browser only"})
    timeout = fields.Integer(required=True)
    rpId = fields.String(required=True)  # noqa: N815  # WebAuthn's name
    allowCredentials = fields.List(fields.Dict(), required=True, metadata={  # noqa: N815
        "description": "empty (any passkey of this site) unless a temp token was sent"})
    userVerification = fields.String(required=True)  # noqa: N815


class PasskeyView(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    created_at = Timestamp(required=True)
    last_used_at = Timestamp(required=True, allow_none=True)
    backup_eligible = fields.Boolean(required=True, metadata={
        "description": "a synced passkey (a password manager's, a platform's), not bound to "
                       "one device"})
    backed_up = fields.Boolean(required=True)


class PasskeyList(Schema):
    passkeys = fields.List(fields.Nested(PasskeyView), required=True)


class PasskeyRegistration(Schema):
    credential = fields.Dict(required=True, metadata={"description": CREDENTIAL})
    name = Text(validate=NAME, metadata={"description": "default: Passkey N"})


class PasskeyRename(Schema):
    name = Text(required=True, validate=NAME)


class PasskeySignInOptionsRequest(Schema):
    temp_token = Text(validate=TEMP_TOKEN, metadata={
        "description": "from a password login that answered 202: the options then name "
                       "that account's passkeys, to stand in for the TOTP code"})


class PasskeyLogin(Schema):
    credential = fields.Dict(required=True, metadata={"description": CREDENTIAL})
    remember_me = fields.Boolean(load_default=False)
    temp_token = Text(validate=TEMP_TOKEN, metadata={
        "description": "the one the options were asked for with, if any"})


def _view(passkey: Passkey) -> dict[str, Any]:
    return {"id": passkey.id, "name": passkey.name, "created_at": passkey.created_at,
            "last_used_at": passkey.last_used_at, "backup_eligible": passkey.backup_eligible,
            "backed_up": passkey.backed_up}


@blp.route("/passkeys")
class Passkeys(MethodView):
    @blp.response(200, PasskeyList)
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.requires("session")
    def get(self) -> dict[str, Any]:
        """List the signed-in user's passkeys, oldest first."""
        return {"passkeys": [_view(p) for p in passkeys().of(require_session().user_id)]}

    @blp.arguments(PasskeyRegistration)
    @blp.response(201, PasskeyView)
    @blp.alt_response(400, schema=ErrorEnvelope, description=(
        f"passkey:invalid_registration (not verified for this site), {ANSWER_ERRORS}"))
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.alt_response(403, schema=ErrorEnvelope, description=REAUTHENTICATE)
    @blp.alt_response(409, schema=ErrorEnvelope,
                      description="passkey:already_registered, passkey:limit_reached")
    @blp.requires("session")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register a passkey: the answer of `navigator.credentials.create` to the options
        of POST /v0/auth/passkeys/options. The owner is told by mail."""
        passkey = passkeys().register(require_session(), body["credential"], body.get("name"),
                                      browser=browser_id(), ip=client_ip())
        return _view(passkey)


@blp.route("/passkeys/options")
class RegistrationOptions(MethodView):
    @blp.response(200, PasskeyCreationOptions)
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.alt_response(403, schema=ErrorEnvelope,
                      description=f"{REAUTHENTICATE}, email:not_verified")
    @blp.alt_response(409, schema=ErrorEnvelope, description="passkey:limit_reached")
    @blp.alt_response(429, schema=ErrorEnvelope, description="rate_limit:exceeded")
    @blp.requires("session")
    def post(self) -> dict[str, Any]:
        """Options for `navigator.credentials.create` (a session that signed in within 10
        minutes, with a verified address)."""
        return passkeys().registration_options(require_session(), browser=browser_id(),
                                               ip=client_ip())


@blp.route("/passkeys/<passkey_id>")
class OnePasskey(MethodView):
    @blp.arguments(PasskeyRename)
    @blp.response(200, PasskeyView)
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.alt_response(404, schema=ErrorEnvelope, description="passkey:not_found")
    @blp.requires("session")
    def patch(self, body: dict[str, str], passkey_id: str) -> dict[str, Any]:
        """Rename one of the signed-in user's passkeys."""
        return _view(passkeys().rename(require_session().user_id, passkey_id, body["name"]))

    @blp.response(204)
    @blp.alt_response(400, schema=ErrorEnvelope,
                      description="passkey:cannot_delete_last_credential")
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.alt_response(403, schema=ErrorEnvelope, description=REAUTHENTICATE)
    @blp.alt_response(404, schema=ErrorEnvelope, description="passkey:not_found")
    @blp.requires("session")
    def delete(self, passkey_id: str) -> Response:
        """Remove a passkey (a recent sign-in is needed; never the last way in). The owner is
        told by mail."""
        passkeys().remove(require_session(), passkey_id, ip=client_ip())
        return no_content()


@blp.route("/login/passkey/options")
class SignInOptions(MethodView):
    @blp.arguments(PasskeySignInOptionsRequest, required=False)
    @blp.response(200, PasskeyRequestOptions)
    @blp.alt_response(400, schema=ErrorEnvelope, description=(
        "totp:temp_token_invalid, passkey:none_registered (the account has none)"))
    @blp.alt_response(429, schema=ErrorEnvelope, description="rate_limit:exceeded")
    def post(self, body: dict[str, str]) -> dict[str, Any]:
        """Options for `navigator.credentials.get`: any passkey of this site (sign-in without
        a name, or the browser's autofill with `mediation: "conditional"`), or with a temp
        token, that account's."""
        return passkeys().sign_in_options(browser=browser_id(), ip=client_ip(),
                                          temp_token=body.get("temp_token"))


@blp.route("/login/passkey")
class PasskeyLoginView(MethodView):
    @blp.arguments(PasskeyLogin)
    @blp.response(204)
    @blp.alt_response(202, schema=TempToken, description=(
        "the authenticator did not verify the user and TOTP is on: send the temp token and a "
        "code to /totp/verify"))
    @blp.alt_response(400, schema=ErrorEnvelope,
                      description=f"totp:temp_token_invalid, {ANSWER_ERRORS}")
    @blp.alt_response(401, schema=ErrorEnvelope, description=(
        "passkey:unknown_credential, passkey:invalid_assertion, "
        "passkey:sign_count_regressed (a possible clone: the sign-in is refused)"))
    def post(self, body: dict[str, Any]) -> Response:
        """Sign in with a passkey: the answer of `navigator.credentials.get` to the options
        of POST /v0/auth/login/passkey/options; sets the `session_id` cookie."""
        outcome = passkeys().sign_in(
            domain.PasskeyLogin(body["credential"], body["remember_me"], body.get("temp_token")),
            requesting_client(), browser=browser_id(), replacing=request.cookies.get(COOKIE_NAME))
        if isinstance(outcome, SecondFactorRequired):
            return make_response({"temp_token": outcome.temp_token}, 202)
        return signed_in_response(outcome)
