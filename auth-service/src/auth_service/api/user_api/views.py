"""The user API (document 003): `/user/create`, `/user/auth`, `/user/logged` and the password
reset by a mailed id, over the platform's one user base (`/user/profile/<username>` is
user-service's). Every answer is `{"statusCode": "<status>", "message", "data"}`; decisions in
docs/user-api.md.

Bodies are read by `rules.read`, which answers in the document's sentences; the OpenAPI
document describes each body from the same rules (`rules.schema`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask.views import MethodView

from auth_service import mail
from auth_service.accounts import SignUp
from auth_service.api.user_api import rules
from auth_service.authentication import OneStepLogin
from auth_service.extensions import accounts, authenticator, email_flows
from auth_service.userhash import named
from tessera_shared.app import Blueprint, UserApiEnvelope, user_api_answer
from tessera_shared.context import client_ip, requesting_client
from tessera_shared.families import Family, user_api_profile
from tessera_shared.platform import platform

blp = Blueprint("user-api", __name__, url_prefix="/user", description="User API (document 003)")

FAMILY = Family.USER_API.value
COOKIE = "TOKEN"
KEEP_SESSIONS = 10  # a user's newest sessions of this family that stay open


CREATE = (rules.USERNAME, rules.EMAIL, rules.PASSWORD, rules.NAME, rules.BIO, rules.PRONOUNCE,
          rules.WEBSITE)
AUTH = (rules.SIGN_IN_NAME, rules.PASSWORD, rules.CODE)
RESET_TOKEN = (rules.EMAIL,)
RESET = (rules.RESET_ID, rules.NEW_PASSWORD)


def described(name: str, body: tuple[rules.Field, ...]
              ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document a body by the rules that read it."""
    return blp.doc(requestBody={"required": True, "content": {
        "application/json": {"schema": rules.schema(name, body)}}})


def _token() -> str | None:
    """The session token: a `TOKEN` header or a bearer token (said for this request), else
    the `TOKEN` cookie."""
    bearer = request.authorization
    return (request.headers.get(COOKIE)
            or (bearer.token if bearer and bearer.type == "bearer" else None)
            or request.cookies.get(COOKIE))


@blp.route("/create")
class Create(MethodView):
    @described("UserApiCreate", CREATE)
    @blp.response(200, UserApiEnvelope, description="User created successfully; `data` is the "
                  "profile, as /user/profile shows it")
    @blp.alt_response(400, schema=UserApiEnvelope, description="a field missing (cannot be null), "
                      "empty, or with white space (the username: also any character a "
                      "handle does not take)")
    @blp.alt_response(406, schema=UserApiEnvelope, description="a length out of its rules, or "
                      "Invalid email")
    @blp.alt_response(409, schema=UserApiEnvelope, description="Email already exists, User already "
                      "exists")
    @blp.alt_response(429, schema=UserApiEnvelope, description="too many sign-ups from this "
                      "address in the last hour (Tessera's)")
    def post(self) -> Response:
        """Create an account; the address gets a verification mail."""
        form = rules.read(request, CREATE)
        username, name = form["username"], form["name"] or form["username"]
        about = {key: form[key] for key in ("bio", "pronounce", "website")}
        accounts().sign_up(
            SignUp(email=form["email"], handle=username, display_name=name,
                   password=form["password"], about=about),
            requesting_client(), welcome=email_flows().send_verification)
        return user_api_answer(200, "User created successfully", user_api_profile(
            {"username": username, "name": name, **about}, followers=0, following=0))


@blp.route("/auth")
class Auth(MethodView):
    @described("UserApiAuth", AUTH)
    @blp.response(200, UserApiEnvelope, description="Authenticated; the session is the `TOKEN` "
                  "cookie (also accepted as a `TOKEN` header or a bearer token)")
    @blp.alt_response(400, schema=UserApiEnvelope, description="a field missing, empty, or with "
                      "white space; a wrong or used `code`")
    @blp.alt_response(401, schema=UserApiEnvelope, description="Authenticated failed; or, with "
                      "two-factor authentication on and no `code`, a sentence asking for one")
    @blp.alt_response(406, schema=UserApiEnvelope, description="a length out of its rules")
    def post(self) -> Response:
        """Sign in with username and password (and a code when TOTP is on)."""
        form = rules.read(request, AUTH)
        username = form["username"]
        user = named(accounts(), username)
        opened = authenticator().log_in_at_once(
            OneStepLogin(user.account, typed=f"handle:{username.casefold()}",
                         password=form["password"], code=form["code"]),
            requesting_client(), family=FAMILY, keep_newest=KEEP_SESSIONS)
        response = user_api_answer(200, "Authenticated")
        record = opened.record
        response.set_cookie(COOKIE, opened.token,
                            max_age=record.max_expires_at - record.created_at, path="/",
                            httponly=True, samesite="Lax",
                            secure=platform().settings.secure_cookies)
        return response


@blp.route("/logged")
class Logged(MethodView):
    @blp.response(200, UserApiEnvelope, description='Validation, data "true": a live session')
    @blp.alt_response(404, schema=UserApiEnvelope, description='TOKEN was not found (data '
                      '"false"); No auth info found (data "true"): a token with no session')
    @blp.requires("token")
    def get(self) -> Response:
        """Whether the request carries a live session."""
        token = _token()
        if not token:
            return user_api_answer(404, "TOKEN was not found", "false")
        if platform().sessions.read(token) is None:
            return user_api_answer(404, "No auth info found", "true")
        return user_api_answer(200, "Validation", "true")


@blp.route("/logout")
class Logout(MethodView):
    @blp.response(200, UserApiEnvelope, description="Logged out (beyond the document); the "
                  "`TOKEN` cookie is cleared")
    @blp.alt_response(404, schema=UserApiEnvelope, description="TOKEN was not found (none "
                      "came, or it opens no session)")
    @blp.requires("token")
    def post(self) -> Response:
        """End the session the request carries."""
        token = _token()
        ended = bool(token) and authenticator().log_out(token, ip=client_ip())
        response = (user_api_answer(200, "Logged out") if ended
                    else user_api_answer(404, "TOKEN was not found", "false"))
        response.set_cookie(COOKIE, "", max_age=0, path="/", httponly=True, samesite="Lax",
                            secure=platform().settings.secure_cookies)
        return response


@blp.route("/password-reset-token")
class ResetToken(MethodView):
    @described("UserApiResetToken", RESET_TOKEN)
    @blp.doc(parameters=[{"in": "query", "name": "email", "schema": {"type": "string"},
                          "description": "or in the body"}])
    @blp.response(200, UserApiEnvelope, description="Password reset token generated (for any "
                  "address: whether an account has it is not told)")
    @blp.alt_response(400, schema=UserApiEnvelope, description="Email cannot be null / empty")
    @blp.alt_response(406, schema=UserApiEnvelope, description="Invalid email")
    def post(self) -> Response:
        """Mail a reset id (and link) to the account with this address."""
        form = rules.read(request, RESET_TOKEN, query=True)
        email_flows().forgot_password(form["email"], ip=client_ip(),
                                      compose=mail.reset_id_mail)
        return user_api_answer(200, "Password reset token generated")


@blp.route("/password-reset")
class Reset(MethodView):
    @described("UserApiReset", RESET)
    @blp.response(200, UserApiEnvelope, description="New password has been set successfully; every "
                  "session of the account ended")
    @blp.alt_response(400, schema=UserApiEnvelope, description="a field missing or empty, or a "
                      "common password")
    @blp.alt_response(404, schema=UserApiEnvelope, description="Token not found, User not found")
    @blp.alt_response(406, schema=UserApiEnvelope, description="Token is expired; a password "
                      "length out of its rules")
    def post(self) -> Response:
        """Set a new password with the mailed reset id (once)."""
        form = rules.read(request, RESET)
        email_flows().reset_password_by_id(form["uuid"], form["newPassword"],
                                           ip=client_ip())
        return user_api_answer(200, "New password has been set successfully")
