"""Facts about the request being served, the same way in every service."""

from __future__ import annotations

from flask import g, request

from tessera_shared.errors import UNAUTHORIZED
from tessera_shared.platform import platform
from tessera_shared.sessions import COOKIE_NAME, SessionRecord


def client_ip() -> str:
    return g.get("client_ip", "") or request.remote_addr or ""


def request_id() -> str | None:
    return g.get("request_id")


def user_agent() -> str:
    return request.headers.get("User-Agent", "")[:256]


def current_session() -> SessionRecord | None:
    """The caller's session from the `session_id` cookie, if it is live."""
    if "session" not in g:
        g.session = platform().sessions.read(request.cookies.get(COOKIE_NAME))
    return g.session


def require_session() -> SessionRecord:
    session = current_session()
    if session is None:
        raise UNAUTHORIZED()
    return session
