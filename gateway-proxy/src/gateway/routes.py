"""The route table: which service answers which public path. First match wins.

A pattern is an exact path, or a prefix ending in `/**` that matches the prefix itself and
everything below it. Paths not listed here (including all of `/internal`) are never proxied;
the gateway answers them itself (its own endpoints, or 404 in the family's envelope).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tessera_shared import limits

ANY = frozenset()


@dataclass(frozen=True)
class Route:
    pattern: str
    service: str
    methods: frozenset[str] = ANY
    max_body: int = limits.REQUEST_BODY
    websocket: bool = False
    refuses_foreign_origins: bool = False  # a browser Origin not on the allow-list gets 403
    live: bool = False  # a GET the service may hand over as a live stream (gateway.live)
    # An idempotent request an instance went down with may go to another. Not where the
    # original's GETs act (the registry's `GET /api/register/init` hands out a number).
    resend: bool = True

    def matches(self, method: str, path: str) -> bool:
        if self.methods and method not in self.methods:
            return False
        if self.pattern.endswith("/**"):
            prefix = self.pattern[:-3]
            return path == prefix or path.startswith(prefix + "/")
        return path == self.pattern


def _route(pattern: str, service: str, *methods: str, **options: Any) -> Route:
    return Route(pattern, service, frozenset(methods), **options)


ROUTES: tuple[Route, ...] = (
    # v0 — the AxumKit-compatible primary API (002-v0-api.txt)
    _route("/v0/users", "auth", "POST"),                  # sign-up: the saga lives in auth
    _route("/v0/users/**", "user"),
    _route("/v0/user/me", "auth", "DELETE"),              # deleting an account starts in auth
    _route("/v0/user/me/profile-image", "user",
           max_body=limits.PROFILE_IMAGE + limits.FORM_SLACK),
    _route("/v0/user/me/banner-image", "user", max_body=limits.BANNER_IMAGE + limits.FORM_SLACK),
    _route("/v0/user/**", "user"),
    _route("/v0/search/**", "user"),
    _route("/v0/auth/**", "auth"),
    _route("/v0/action-logs/**", "events"),
    _route("/v0/eventstream/**", "events", live=True),
    # registry REST and WebSocket — Tensamin AuthServer and Omega (000, 001)
    _route("/api/get/**", "registry", refuses_foreign_origins=True),
    _route("/api/change/**", "registry", max_body=limits.REGISTRY_CHANGE,
           refuses_foreign_origins=True),
    _route("/api/register/**", "registry", refuses_foreign_origins=True, resend=False),
    _route("/api/delete/**", "registry", refuses_foreign_origins=True),
    _route("/ws/omikron/**", "registry", websocket=True, refuses_foreign_origins=True),
    # users API — manage-my-damn-life (004)
    _route("/api/login/**", "auth"),
    _route("/api/users/**", "auth"),
    # user API — /user/* (003): profiles are user-service's, the rest is authentication
    _route("/user/profile/**", "user"),
    _route("/user/**", "auth"),
    # public images, content-addressed, served by user-service
    _route("/media/**", "user", "GET", "HEAD"),
)


def match(method: str, path: str, routes: tuple[Route, ...] = ROUTES) -> Route | None:
    if path.startswith("/internal"):
        return None
    for route in routes:
        if route.matches(method, path):
            return route
    return None
