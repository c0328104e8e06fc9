"""The users API's endpoints. Its clients identify a user by `userhash` (SHA-512 of the
username, in hex) and a session by `ssid`, and send both as `Authorization: Basic
base64(userhash:ssid)`. A username is the user's Tessera handle; an ssid is a Tessera session.

Bodies come as JSON or as a form, as the original takes them. Errors say the original's
message codes (tessera_shared.families maps the platform's errors onto them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import request
from flask.views import MethodView
from marshmallow import pre_load, validate

from auth_service import errors
from auth_service.accounts import SignUp
from auth_service.api.v0.rules import CODE, EMAIL, NEW_PASSWORD, PASSWORD
from auth_service.authentication import OneStepLogin
from auth_service.extensions import accounts, authenticator, email_flows
from auth_service.userhash import named, signed_in, userhash
from tessera_shared.app import Blueprint, UsersApiEnvelope
from tessera_shared.clock import as_utc
from tessera_shared.context import client_ip, user_agent
from tessera_shared.errors import bad_request
from tessera_shared.families import Family, users_api_body
from tessera_shared.platform import platform
from tessera_shared.sessions import Client
from tessera_shared.validation import HANDLE_CHARACTERS, Schema, Text

blp = Blueprint("users-api", __name__, url_prefix="/api",
                description="Users API (manage-my-damn-life-compatible)")

FAMILY = Family.USERS_API.value
MAX_CONCURRENT_LOGINS = 3  # the original's sample MAX_CONCURRENT_LOGINS_ALLOWED


def body(schema: type[Schema], documented: type[Schema] | None = None
         ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A body read as JSON or as a form, as the original takes it (webargs' `json_or_form`),
    and documented as both: as `documented` says it, where the view checks some rules itself
    to answer in the original's words."""
    shown = documented or schema
    as_documented = blp.doc(requestBody={"required": True, "content": {
        "application/json": {"schema": shown},
        "application/x-www-form-urlencoded": {"schema": shown}}})
    read = blp.arguments(schema, location="json_or_form")
    return lambda view: as_documented(read(view))


class Credentials(Schema):
    username = Text(validate=validate.Length(max=254))
    password = Text(validate=PASSWORD)
    code = Text(validate=CODE,
                metadata={"description": "TOTP or backup code, when TOTP is on (Tessera's)"})


class SignIn(Credentials):
    """Credentials as the document states them: both are needed, and the view says which is
    missing in the original's words (INVALID_INPUT, REGISTER_FOR_A_PASSWORD)."""

    username = Text(required=True, validate=validate.Length(min=1, max=254))
    password = Text(required=True, validate=PASSWORD)


class Registration(Schema):
    username = Text(required=True, validate=[validate.Length(min=1, max=64), HANDLE_CHARACTERS])
    password = Text(required=True, validate=NEW_PASSWORD)
    email = Text(required=True, validate=EMAIL)


class CodeRequest(Schema):
    username = Text(required=True, validate=validate.Length(min=1, max=254))


class NewPassword(Schema):
    userhash = Text(required=True, validate=validate.Length(min=1, max=128))
    otp = Text(required=True, validate=validate.Length(min=1, max=16),
               metadata={"description": "the mailed code (`OTP` is taken too, as documented)"})
    reqid = Text(required=True, validate=validate.Length(min=1, max=64))
    password = Text(required=True, validate=NEW_PASSWORD)

    @pre_load
    def _code_as_documented(self, data: Any, **_kwargs: Any) -> Any:
        """The document writes the code `OTP`; the original reads `otp`: both are taken
        (a body that is no object is left for the schema to refuse)."""
        if not isinstance(data, Mapping) or "otp" in data or "OTP" not in data:
            return data
        return {**{key: value for key, value in data.items() if key != "OTP"},
                "otp": data["OTP"]}


@blp.route("/login", strict_slashes=False)
class Login(MethodView):
    @body(Credentials, documented=SignIn)
    @blp.response(200, UsersApiEnvelope)
    @blp.alt_response(401, schema=UsersApiEnvelope, description="INVALID_PASSWORD, TOTP_REQUIRED")
    @blp.alt_response(422, schema=UsersApiEnvelope,
                      description="REGISTER_FOR_A_PASSWORD, INVALID_INPUT")
    def post(self, form: dict[str, Any]) -> dict[str, Any]:
        """Sign in with username and password; answers the userhash and a session id (ssid)."""
        if not form.get("username"):
            raise bad_request("Missing required field: username")
        if not form.get("password"):
            raise errors.PASSWORD_REQUIRED()
        user = named(accounts(), form["username"])
        opened = authenticator().log_in_at_once(
            OneStepLogin(user.account, typed=f"handle:{form['username'].casefold()}",
                         password=form["password"], code=form.get("code")),
            Client(client_ip(), user_agent()), family=FAMILY, keep_newest=MAX_CONCURRENT_LOGINS)
        # "true" as a string: the original's login says so, and its clients compare with it.
        return users_api_body("true", {"userhash": userhash(user.handle), "ssid": opened.token})


@blp.route("/users/login", strict_slashes=False)
class LoginAlias(Login):
    """The documented path (the original serves only /api/login)."""


@blp.route("/users/register")
class Register(MethodView):
    @body(Registration)
    @blp.response(200, UsersApiEnvelope, description="USER_INSERT_OK, or success false with "
                  "ERROR_LOGIN_WITH_PASSWORD when the username is taken")
    @blp.alt_response(401, schema=UsersApiEnvelope, description="CANT_CREATE_USER")
    @blp.alt_response(422, schema=UsersApiEnvelope, description="INVALID_INPUT")
    @blp.alt_response(429, schema=UsersApiEnvelope, description="TOO_MANY_REQUESTS: too many "
                      "sign-ups from this address in the last hour (Tessera's)")
    def post(self, form: dict[str, Any]) -> dict[str, Any]:
        """Register a user; the platform's first is always made, and is an admin."""
        accounts().sign_up_first_or_open(
            SignUp(email=form["email"], handle=form["username"], display_name=form["username"],
                   password=form["password"]),
            Client(client_ip(), user_agent()))
        return users_api_body(True, "USER_INSERT_OK")


@blp.route("/users/requestotp")
class RequestCode(MethodView):
    @blp.arguments(CodeRequest, location="query")
    @blp.response(200, UsersApiEnvelope)
    @blp.alt_response(403, schema=UsersApiEnvelope, description="ERROR_INVALID_USERNAME")
    def get(self, query: dict[str, str]) -> dict[str, Any]:
        """Mail a six-digit code to reset the password; answers the userhash and a request id
        (`ERROR_NO_EMAIL_SET`, success false, for a user without an address)."""
        return self._request(query["username"])

    @body(CodeRequest)
    @blp.response(200, UsersApiEnvelope)
    @blp.alt_response(403, schema=UsersApiEnvelope, description="ERROR_INVALID_USERNAME")
    def post(self, form: dict[str, str]) -> dict[str, Any]:
        """As GET, with the username in the body (as the document has it)."""
        return self._request(form["username"])

    @staticmethod
    def _request(username: str) -> dict[str, Any]:
        user = named(accounts(), username)
        if user.profile is None:
            raise errors.USERNAME_UNKNOWN()
        if user.account is None:
            raise errors.NO_EMAIL_SET()
        name_hash = userhash(user.handle)
        reqid = email_flows().request_reset_code(user.account, name_hash, ip=client_ip())
        return users_api_body(True, {"userhash": name_hash, "reqid": reqid})


@blp.route("/users/modifypassword")
class ModifyPassword(MethodView):
    @body(NewPassword)
    @blp.response(200, UsersApiEnvelope, description="PASSWORD_RESET_OK")
    @blp.alt_response(401, schema=UsersApiEnvelope, description="ERROR_INVALID_OTP")
    @blp.alt_response(422, schema=UsersApiEnvelope, description="INVALID_INPUT")
    def post(self, form: dict[str, str]) -> dict[str, Any]:
        """Set a new password with the mailed code; ends every session of the account."""
        email_flows().reset_password_with_code(form["reqid"], form["userhash"], form["otp"],
                                               form["password"], ip=client_ip())
        return users_api_body(True, "PASSWORD_RESET_OK")


@blp.route("/users/info")
class Info(MethodView):
    @blp.response(200, UsersApiEnvelope)
    @blp.alt_response(401, schema=UsersApiEnvelope, description="PLEASE_LOGIN")
    @blp.requires("basic")
    def get(self) -> dict[str, Any]:
        """The signed-in user (`level` "1" for an admin, "0" otherwise)."""
        credentials = request.authorization
        if credentials is None or credentials.type != "basic":
            raise errors.BASIC_CREDENTIALS_REQUIRED()
        user = signed_in(accounts(), credentials.username or "", credentials.password or "",
                         ip=client_ip())
        account, profile = user.account, user.profile
        return users_api_body(True, {
            "users_id": account.id, "username": profile.handle, "email": account.email,
            "created": str(int(as_utc(account.created_at).timestamp())),
            "level": "1" if account.role == "admin" else "0",
            "userhash": userhash(profile.handle), "mobile": None})


@blp.route("/users/settings/registrationstatus")
class RegistrationStatus(MethodView):
    @blp.response(200, UsersApiEnvelope)
    def get(self) -> dict[str, Any]:
        """Whether sign-ups are open (`message` is a boolean)."""
        return users_api_body(True, platform().settings.registration_open)
