"""Facts about the request being served, the same way in every service."""

from __future__ import annotations

from flask import g, request

from tessera_shared.errors import UNAUTHORIZED
from tessera_shared.ids import is_uuid, uuid7
from tessera_shared.platform import platform
from tessera_shared.sessions import COOKIE_NAME, Client, SessionRecord

ANONYMOUS_COOKIE = "anonymous_user_id"


def client_ip() -> str:
    return g.get("client_ip", "") or request.remote_addr or ""


def request_id() -> str | None:
    return g.get("request_id")


def user_agent() -> str:
    return request.headers.get("User-Agent", "")[:256]


def requesting_client() -> Client:
    """Who is asking: the address, the user agent and, from a browser, its anonymous id."""
    return Client(client_ip(), user_agent(), device=request.cookies.get(ANONYMOUS_COOKIE))


def browser_id() -> str:
    """The browser's `anonymous_user_id`: the cookie it sent, or, if it sent none that we
    could have given it, the one this answer gives it (so a flow started on a first visit is
    bound to the id the browser keeps)."""
    if "browser_id" not in g:
        sent = request.cookies.get(ANONYMOUS_COOKIE, "")
        g.browser_id = sent if is_uuid(sent) else str(uuid7())
    return g.browser_id



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
