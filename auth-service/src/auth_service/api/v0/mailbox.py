"""v0 flows that go through the user's mailbox: verification, password reset and change,
email change."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import validate

from auth_service.api.v0.rules import EMAIL, NEW_PASSWORD, PASSWORD
from auth_service.extensions import authenticator, email_flows
from tessera_shared.app import Blueprint, ErrorEnvelope, no_content
from tessera_shared.context import client_ip, require_session
from tessera_shared.validation import Schema, Text

blp = Blueprint("v0-mailbox", __name__, url_prefix="/v0/auth",
                description="Email verification and password recovery")


class TokenBody(Schema):
    token = Text(required=True, validate=validate.Length(min=1, max=128))


class EmailBody(Schema):
    email = Text(required=True, validate=EMAIL)


class ResetBody(Schema):
    token = Text(required=True, validate=validate.Length(min=1, max=128))
    new_password = Text(required=True, validate=NEW_PASSWORD)


class ChangePasswordBody(Schema):
    current_password = Text(required=True, validate=PASSWORD)
    new_password = Text(required=True, validate=NEW_PASSWORD)


class ChangeEmailBody(Schema):
    password = Text(required=True, validate=PASSWORD)
    new_email = Text(required=True, validate=EMAIL)


@blp.route("/verify-email")
class VerifyEmail(MethodView):
    @blp.arguments(TokenBody)
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorEnvelope, description="user:not_found")
    def post(self, body: dict[str, Any]) -> Any:
        """Verify an email address with the token from the verification mail."""
        email_flows().verify_email(body["token"], ip=client_ip())
        return no_content()


@blp.route("/resend-verification-email")
class ResendVerification(MethodView):
    @blp.response(204)
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.requires("session")
    def post(self) -> Any:
        """Send the signed-in user a new verification mail."""
        email_flows().resend_verification(require_session().user_id)
        return no_content()


@blp.route("/forgot-password")
class ForgotPassword(MethodView):
    @blp.arguments(EmailBody)
    @blp.response(204)
    def post(self, body: dict[str, Any]) -> Any:
        """Mail a password reset link; answers 204 whether or not the account exists."""
        email_flows().forgot_password(body["email"], ip=client_ip())
        return no_content()


@blp.route("/reset-password")
class ResetPassword(MethodView):
    @blp.arguments(ResetBody)
    @blp.response(204)
    def post(self, body: dict[str, Any]) -> Any:
        """Set a new password with the token from the reset mail; ends every session."""
        email_flows().reset_password(body["token"], body["new_password"], ip=client_ip())
        return no_content()


@blp.route("/change-password")
class ChangePassword(MethodView):
    @blp.arguments(ChangePasswordBody)
    @blp.response(204)
    @blp.alt_response(401, schema=ErrorEnvelope,
                      description="user:unauthorized, user:invalid_password")
    @blp.requires("session")
    def post(self, body: dict[str, Any]) -> Any:
        """Change the signed-in user's password; ends their other sessions."""
        authenticator().change_password(require_session(), body["current_password"],
                                        body["new_password"], ip=client_ip())
        return no_content()


@blp.route("/change-email")
class ChangeEmail(MethodView):
    @blp.arguments(ChangeEmailBody)
    @blp.response(204)
    @blp.alt_response(403, schema=ErrorEnvelope, description="email:not_verified")
    @blp.alt_response(409, schema=ErrorEnvelope, description="user:email_already_exists")
    @blp.requires("session")
    def post(self, body: dict[str, Any]) -> Any:
        """Mail a confirmation link to a new address for the signed-in user (whose current
        address must be verified)."""
        email_flows().change_email(require_session(), body["password"], body["new_email"],
                                   ip=client_ip())
        return no_content()


@blp.route("/confirm-email-change")
class ConfirmEmailChange(MethodView):
    @blp.arguments(TokenBody)
    @blp.response(204)
    @blp.alt_response(409, schema=ErrorEnvelope, description="user:email_already_exists")
    def post(self, body: dict[str, Any]) -> Any:
        """Move the account to its new address with the token from the confirmation mail;
        its other sessions end, and the old address gets a link to undo the change."""
        email_flows().confirm_email_change(body["token"], ip=client_ip())
        return no_content()


@blp.route("/report-email-change")
class ReportEmailChange(MethodView):
    @blp.arguments(TokenBody)
    @blp.response(204)
    @blp.alt_response(400, schema=ErrorEnvelope, description="token:invalid_email_change_report")
    @blp.alt_response(409, schema=ErrorEnvelope, description="user:email_already_exists")
    def post(self, body: dict[str, Any]) -> Any:
        """Undo an email change with the token mailed to the old address: the account moves
        back to it and every session ends."""
        email_flows().report_email_change(body["token"], ip=client_ip())
        return no_content()
