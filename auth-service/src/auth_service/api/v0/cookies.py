"""The v0 session cookie: `session_id`, HttpOnly, SameSite=Lax, Secure unless served over
plain http; persistent (Max-Age) only when the user asked to be remembered."""

from __future__ import annotations

from flask import Response

from auth_service.authentication import SignedIn
from tessera_shared.app import no_content
from tessera_shared.platform import platform
from tessera_shared.sessions import COOKIE_NAME, SessionRecord


def set_session_cookie(response: Response, token: str, record: SessionRecord) -> None:
    max_age = record.max_expires_at - record.created_at if record.remember_me else None
    response.set_cookie(COOKIE_NAME, token, max_age=max_age, path="/", httponly=True,
                        samesite="Lax", secure=platform().settings.secure_cookies)


def signed_in_response(signed_in: SignedIn) -> Response:
    """204 with the new session's cookie: how every successful v0 login answers."""
    response = no_content()
    set_session_cookie(response, signed_in.token, signed_in.record)
    return response


def clear_session_cookie(response: Response) -> None:
    response.set_cookie(COOKIE_NAME, "", max_age=0, path="/", httponly=True, samesite="Lax",
                        secure=platform().settings.secure_cookies)
