"""Deleting one's own account: `DELETE /v0/user/me` (beyond the original API)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from auth_service.api.v0.cookies import clear_session_cookie
from auth_service.api.v0.rules import CODE, PASSWORD
from auth_service.extensions import accounts
from tessera_shared.app import Blueprint, ErrorEnvelope, no_content
from tessera_shared.context import client_ip, require_session
from tessera_shared.validation import Schema, Text

blp = Blueprint("v0-account", __name__, url_prefix="/v0/user", description="Account")


class DeleteAccountBody(Schema):
    password = Text(validate=PASSWORD, metadata={
        "description": "required unless TOTP is on or the account has no password (then a "
                       "sign-in through its provider in the last 10 minutes confirms it)"})
    code = Text(validate=CODE,
                metadata={"description": "TOTP or backup code; required when TOTP is on"})


@blp.route("/me")
class Account(MethodView):
    @blp.arguments(DeleteAccountBody)
    @blp.response(204)
    @blp.alt_response(401, schema=ErrorEnvelope,
                      description="user:unauthorized, user:invalid_password")
    @blp.alt_response(403, schema=ErrorEnvelope, description="auth:reauthentication_required "
                      "(TOTP on: POST /v0/auth/reauthenticate first)")
    @blp.requires("session")
    def delete(self, body: dict[str, Any]) -> Any:
        """Delete the signed-in user's account everywhere; the password confirms it, or, when
        TOTP is on, a TOTP or backup code from a recently re-authenticated session, or, without
        a password, a recent sign-in through the account's provider."""
        accounts().close(require_session(), ip=client_ip(), **body)
        response = no_content()
        clear_session_cookie(response)
        return response
