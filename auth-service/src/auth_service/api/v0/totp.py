"""v0 two-factor authentication: `/v0/auth/totp/...` (setup, enable, verify, status, disable,
backup-codes/regenerate)."""

from __future__ import annotations

import base64
from typing import Any

from flask import Response, request
from flask.views import MethodView
from marshmallow import fields, validate

from auth_service import authentication
from auth_service.accounts import account_of
from auth_service.api.v0.cookies import signed_in_response
from auth_service.api.v0.rules import CODE
from auth_service.authentication import REAUTHENTICATE
from auth_service.extensions import authenticator, two_factor
from auth_service.models import Account, db
from auth_service.two_factor import BACKUP_CODE_LENGTH, TOTP_DIGITS
from tessera_shared.app import Blueprint, ErrorEnvelope, no_content
from tessera_shared.context import client_ip, requesting_client, require_session
from tessera_shared.sessions import COOKIE_NAME, SessionRecord
from tessera_shared.validation import OmitNone, Schema, Text, Timestamp

blp = Blueprint("v0-totp", __name__, url_prefix="/v0/auth/totp",
                description="Two-factor authentication")


def _my_account() -> Account:
    return account_of(db.session, require_session().user_id)


def _my_recently_authenticated_account() -> tuple[Account, SessionRecord]:
    """For changes to the second factor: the session must have proven its credentials within
    the last minutes (`authentication.PRIVILEGED_SECONDS`)."""
    record = require_session()
    authentication.require_recent_authentication(record)
    return account_of(db.session, record.user_id), record




class Enrollment(Schema):
    qr_code_base64 = fields.String(required=True, metadata={
        "description": "PNG of the QR code, base64 without a data: prefix"})
    qr_code_uri = fields.String(required=True, metadata={"description": "otpauth:// URI"})


class TotpCode(Schema):
    code = Text(required=True, validate=validate.Length(equal=TOTP_DIGITS))


class AnyCode(Schema):
    code = Text(required=True, validate=CODE)


class VerifyRequest(Schema):
    temp_token = Text(required=True, validate=validate.Length(min=1, max=256))
    code = Text(required=True, validate=CODE)


class BackupCodes(Schema):
    backup_codes = fields.List(fields.String(), required=True, metadata={
        "description": f"ten {BACKUP_CODE_LENGTH}-character codes, shown this once"})


class TotpStatus(OmitNone):
    enabled = fields.Boolean(required=True)
    enabled_at = Timestamp()
    backup_codes_remaining = fields.Integer()


@blp.route("/setup")
class Setup(MethodView):
    @blp.response(200, Enrollment)
    @blp.alt_response(403, schema=ErrorEnvelope, description=REAUTHENTICATE)
    @blp.alt_response(409, schema=ErrorEnvelope, description="totp:already_enabled")
    @blp.requires("session")
    def post(self) -> dict[str, str]:
        """Make a new TOTP secret for the signed-in user; enable it with a first code."""
        account, _ = _my_recently_authenticated_account()
        enrollment = two_factor().set_up(account)
        return {"qr_code_base64": base64.b64encode(enrollment.qr_png).decode(),
                "qr_code_uri": enrollment.uri}


@blp.route("/enable")
class Enable(MethodView):
    @blp.arguments(TotpCode)
    @blp.response(200, BackupCodes)
    @blp.alt_response(400, schema=ErrorEnvelope,
                      description="totp:invalid_code, totp:not_enabled (no setup yet)")
    @blp.alt_response(403, schema=ErrorEnvelope, description=REAUTHENTICATE)
    @blp.alt_response(409, schema=ErrorEnvelope, description="totp:already_enabled")
    @blp.requires("session")
    def post(self, body: dict[str, str]) -> dict[str, list[str]]:
        """Turn TOTP on with a code from the app; answers the backup codes. Every other
        session of the account ends."""
        account, record = _my_recently_authenticated_account()
        codes = two_factor().enable(account, body["code"], ip=client_ip(),
                                    keep_session=record.id)
        return {"backup_codes": codes}


@blp.route("/verify")
class Verify(MethodView):
    @blp.arguments(VerifyRequest)
    @blp.response(204)
    @blp.alt_response(400, schema=ErrorEnvelope,
                      description="totp:temp_token_invalid, totp:invalid_code")
    @blp.alt_response(401, schema=ErrorEnvelope, description="totp:backup_code_exhausted")
    def post(self, body: dict[str, str]) -> Response:
        """Finish a login: the temp token from /login and a TOTP or backup code."""
        signed_in = authenticator().log_in_second_step(
            body["temp_token"], body["code"], client=requesting_client(),
            replacing=request.cookies.get(COOKIE_NAME))
        return signed_in_response(signed_in)


@blp.route("/status")
class Status(MethodView):
    @blp.response(200, TotpStatus)
    @blp.requires("session")
    def get(self) -> dict[str, Any]:
        """Whether TOTP is on, since when, and how many backup codes are left."""
        status = two_factor().status(_my_account())
        return {"enabled": status.enabled, "enabled_at": status.enabled_at,
                "backup_codes_remaining": status.backup_codes_remaining}


@blp.route("/disable")
class Disable(MethodView):
    @blp.arguments(AnyCode)
    @blp.response(204)
    @blp.alt_response(400, schema=ErrorEnvelope,
                      description="totp:invalid_code, totp:not_enabled")
    @blp.alt_response(403, schema=ErrorEnvelope, description=REAUTHENTICATE)
    @blp.requires("session")
    def post(self, body: dict[str, str]) -> Response:
        """Turn TOTP off with a TOTP or backup code."""
        account, _ = _my_recently_authenticated_account()
        two_factor().disable(account, body["code"], ip=client_ip())
        return no_content()


@blp.route("/backup-codes/regenerate")
class RegenerateBackupCodes(MethodView):
    @blp.arguments(TotpCode)
    @blp.response(200, BackupCodes)
    @blp.alt_response(400, schema=ErrorEnvelope,
                      description="totp:invalid_code, totp:not_enabled")
    @blp.alt_response(403, schema=ErrorEnvelope, description=REAUTHENTICATE)
    @blp.requires("session")
    def post(self, body: dict[str, str]) -> dict[str, list[str]]:
        """Replace the backup codes (the old ones stop working) with a TOTP code."""
        account, _ = _my_recently_authenticated_account()
        codes = two_factor().regenerate_backup_codes(account, body["code"],
                                                     ip=client_ip())
        return {"backup_codes": codes}
