"""What the gateway decides about a request before any service sees it: the client's address,
the request id, CORS, cross-site protection, and the headers every answer carries."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from gateway.config import GatewaySettings
from tessera_shared import ids

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Cookies that carry a session in some API family: an unsafe cross-site request with one is
# refused, whatever the family (later families add their cookie names here).
SESSION_COOKIES = ("session_id=", "TOKEN=")  # v0, the user API
ALLOWED_REQUEST_HEADERS = re.compile(r"^[A-Za-z0-9-]{1,64}$")

Headers = list[tuple[str, str]]


class Edge:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.trusted = settings.trusted_proxies
        self.allowed_origins = settings.cors_allowed_origins
        security = [
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            # JSON APIs never run or embed anything; /docs sets its own, wider policy.
            ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
        ]
        if settings.https:
            security.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
        self.security_headers: Headers = security

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def client_ip(self, environ: dict) -> str:
        """The socket's address, or — behind a trusted proxy — the nearest untrusted hop of
        `X-Forwarded-For`."""
        remote = environ.get("REMOTE_ADDR", "")
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        if not forwarded or not self.trusted or not self._is_trusted(remote):
            return remote
        for hop in reversed([part.strip() for part in forwarded.split(",")]):
            if not self._is_trusted(hop):
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    return remote
        return remote

    @staticmethod
    def request_id(environ: dict) -> str:
        return ids.request_id(environ.get("HTTP_X_REQUEST_ID", ""))

    def allowed_origin(self, environ: dict) -> str | None:
        origin = environ.get("HTTP_ORIGIN")
        return origin if origin in self.allowed_origins else None

    def is_foreign(self, environ: dict) -> bool:
        """A browser's request from a page whose origin is not on the allow-list (requests
        without an Origin, from servers and tools, are not)."""
        origin = environ.get("HTTP_ORIGIN")
        return origin is not None and origin not in self.allowed_origins

    def is_cross_site_with_session(self, environ: dict, method: str) -> bool:
        """An unsafe request, carrying a session cookie, from a page of another site."""
        if method in SAFE_METHODS:
            return False
        cookies = environ.get("HTTP_COOKIE", "")
        if not cookies or not any(name in cookies for name in SESSION_COOKIES):
            return False
        if "HTTP_ORIGIN" in environ:
            return self.is_foreign(environ) and not self._same_origin(environ)
        return environ.get("HTTP_SEC_FETCH_SITE") == "cross-site"

    def _same_origin(self, environ: dict) -> bool:
        """A page of the very host it calls, by the platform's scheme (the console opened at
        `localhost` rather than at PUBLIC_URL's `127.0.0.1`, where its passkeys work): a
        browser names the page's origin, so no other site's page can claim it, and the
        session cookie is that host's own. The scheme counts: an http page forged on an
        https platform's name is another origin."""
        scheme = "https" if self.settings.https else "http"
        host = environ.get("HTTP_HOST", "")
        return bool(host) and environ["HTTP_ORIGIN"] == f"{scheme}://{host}"

    def response_headers(self, environ: dict, request_id: str) -> Headers:
        headers = [*self.security_headers, ("X-Request-ID", request_id)]
        origin = self.allowed_origin(environ)
        if origin:
            headers += [("Access-Control-Allow-Origin", origin),
                        ("Access-Control-Allow-Credentials", "true"),
                        ("Access-Control-Expose-Headers", "X-Request-ID"),
                        ("Vary", "Origin")]
        return headers

    def preflight_headers(self, environ: dict) -> Headers:
        if not self.allowed_origin(environ):
            return []
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
        names = [name.strip() for name in requested.split(",")
                 if ALLOWED_REQUEST_HEADERS.match(name.strip())]
        return [("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS"),
                ("Access-Control-Allow-Headers", ", ".join(names) or "Content-Type"),
                ("Access-Control-Max-Age", "300")]


def merge(upstream: Iterable[tuple[str, str]], edge: Headers) -> Headers:
    """The service's headers, then the edge's for any name the service did not set."""
    merged = list(upstream)
    present = {name.lower() for name, _ in merged}
    merged.extend(header for header in edge if header[0].lower() not in present
                  or header[0] == "Vary")
    return merged
