"""Domain errors: a stable `domain:reason` code, an HTTP status and a human message.

Every error a service answers with is an `ErrorId` declared once, in its service's registry
(`<service>/errors.py`, or the platform-wide ones below), as Kratos keeps its ids in one
`text/id.go`. Domain logic raises `SOME_ID()` (or `SOME_ID("a more precise sentence")`); each
API family renders it in its own envelope (`tessera_shared.families`), so one rule never
answers in two shapes, and a unit test checks that every code a family maps is declared.

Where an original API says two things with one code, two ids share it (the wire stays
compatible; the registry still tells the meanings apart).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType


class DomainError(Exception):
    """A rule of the platform was not met; `code` is stable, `message` is for people."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.status}, {self.message!r})"


@dataclass(frozen=True)
class ErrorId:
    """One kind of refusal: its code on the wire, its status, and what it usually says."""

    code: str
    status: int
    message: str = ""

    def __call__(self, message: str | None = None) -> DomainError:
        return DomainError(self.code, self.status, message or self.message)


def declared(registry: ModuleType) -> dict[str, ErrorId]:
    """A registry module's ids by name."""
    return {name: value for name, value in vars(registry).items()
            if isinstance(value, ErrorId)}


# --- the platform's own: malformed requests and the plumbing ------------------------------

BAD_REQUEST = ErrorId("general:bad_request", 400, "Bad request.")
VALIDATION_ERROR = ErrorId("general:validation_error", 400)
NOT_FOUND = ErrorId("system:not_found", 404, "Nothing is served at this path.")
METHOD_NOT_ALLOWED = ErrorId("system:method_not_allowed", 405,
                             "This path does not take that method.")
PAYLOAD_TOO_LARGE = ErrorId("system:payload_too_large", 413, "The request body is too large.")
UNAUTHORIZED_INTERNAL_CALL = ErrorId("system:unauthorized_internal_call", 401,
                                     "This internal endpoint needs a valid service signature.")
CROSS_ORIGIN_REJECTED = ErrorId("system:cross_origin_rejected", 403, "CORS origin rejected")
CROSS_SITE_REQUEST = ErrorId("system:cross_site_request", 403, "A page of another site may "
                             "not make this request with your session.")
SERVICE_UNAVAILABLE = ErrorId("system:service_unavailable", 503,
                              "A service is not answering; try again shortly.")
DATABASE_UNAVAILABLE = ErrorId("system:service_unavailable", 503,
                               "The database is not answering; try again shortly.")
BAD_GATEWAY = ErrorId("system:bad_gateway", 502,
                      "A service answered with something that is not HTTP.")
GATEWAY_TIMEOUT = ErrorId("system:gateway_timeout", 504,
                          "A service took too long to answer; try again.")
INTERNAL_ERROR = ErrorId("system:internal_error", 500, "Something went wrong on our side; the "
                         "request id in X-Request-ID finds it in the logs.")
# Every family's sessions: no live session came with the request.
UNAUTHORIZED = ErrorId("user:unauthorized", 401,
                       "Sign in first: no valid session came with this request.")


def bad_request(message: str) -> DomainError:
    """The body or query could not be read as the endpoint's shape (types, JSON, fields)."""
    return BAD_REQUEST(message)


def validation_error(message: str) -> DomainError:
    """The shape was right but a value broke a rule (length, format, ...)."""
    return VALIDATION_ERROR(message)


def payload_too_large(limit: int) -> DomainError:
    return PAYLOAD_TOO_LARGE(f"The request body is larger than {limit} bytes.")


def from_http_status(status: int, method: str, path: str, description: str | None) -> DomainError:
    """The domain error for an HTTP error raised by the framework itself (routing, limits)."""
    if status == 404:
        return NOT_FOUND(f"Path {path} with method {method} not found.")
    if status == 405:
        return METHOD_NOT_ALLOWED(f"{path} does not take {method}.")
    if status == 413:
        return PAYLOAD_TOO_LARGE()
    if status < 500:
        # webargs and werkzeug refusals keep their own 4xx status, in the bad-request code.
        return DomainError(BAD_REQUEST.code, status, description or BAD_REQUEST.message)
    return INTERNAL_ERROR()
