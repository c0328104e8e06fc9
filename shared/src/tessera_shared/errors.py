"""Domain errors: a stable `domain:reason` code, an HTTP status and a human message.

Domain logic raises these; each API family renders them in its own envelope
(`tessera_shared.families`), so one rule never answers in two shapes.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the platform was not met; `code` is stable, `message` is for people."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.status}, {self.message!r})"


def bad_request(message: str) -> DomainError:
    """The body or query could not be read as the endpoint's shape (types, JSON, fields)."""
    return DomainError("general:bad_request", 400, message)


def validation_error(message: str) -> DomainError:
    """The shape was right but a value broke a rule (length, format, ...)."""
    return DomainError("general:validation_error", 400, message)


def not_found(message: str = "Nothing is served at this path.") -> DomainError:
    return DomainError("system:not_found", 404, message)


def method_not_allowed(message: str = "This path does not take that method.") -> DomainError:
    return DomainError("system:method_not_allowed", 405, message)


def payload_too_large(limit: int) -> DomainError:
    return DomainError("system:payload_too_large", 413,
                       f"The request body is larger than {limit} bytes.")


def service_unavailable(
        message: str = "A service is not answering; try again shortly.") -> DomainError:
    return DomainError("system:service_unavailable", 503, message)


def bad_gateway(
        message: str = "A service answered with something that is not HTTP.") -> DomainError:
    return DomainError("system:bad_gateway", 502, message)


def gateway_timeout(message: str = "A service took too long to answer; try again.") -> DomainError:
    return DomainError("system:gateway_timeout", 504, message)


def internal_error() -> DomainError:
    return DomainError("system:internal_error", 500,
                       "Something went wrong on our side; the request id in X-Request-ID "
                       "finds it in the logs.")


def from_http_status(status: int, method: str, path: str, description: str | None) -> DomainError:
    """The domain error for an HTTP error raised by the framework itself (routing, limits)."""
    if status == 404:
        return not_found(f"Path {path} with method {method} not found.")
    if status == 405:
        return method_not_allowed(f"{path} does not take {method}.")
    if status == 413:
        return DomainError("system:payload_too_large", 413, "The request body is too large.")
    if status < 500:
        return DomainError("general:bad_request", status, description or "Bad request.")
    return internal_error()
