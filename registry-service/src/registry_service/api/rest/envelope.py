"""The registry REST envelope: `{"type", "log": {"message", "log_level"}, "data"?}`.

A failure's message is `"<what failed>: <why>"`, as the original's, and its status is the
4xx the reason calls for (the original answered nearly every failure with 500; its clients
only read `type`, so an honest status costs them nothing).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from flask import Response, request

from registry_service import errors
from tessera_shared.errors import DomainError
from tessera_shared.families import registry_body

USER, PRIVILEGED = 0, 1  # log levels: a user's own action; an Omikron's call or a failure


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status=status,
                    content_type="application/json; charset=utf-8")


def success(message: str, data: dict[str, Any] | None = None,
            log_level: int = USER) -> Response:
    return _json(registry_body("success", message, log_level, data), 200)


def failing_as(context: str, log_level: int = PRIVILEGED) -> Callable:
    """Answer the view's domain errors as `"<context>: <reason>"`."""
    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            try:
                return view(*args, **kwargs)
            except DomainError as error:
                return _json(registry_body("error", f"{context}: {error.message}", log_level),
                             error.status)
        return wrapper
    return decorate


def body() -> dict[str, Any]:
    """The JSON object sent; anything else (no body, bad JSON, an array) counts as no values,
    as in the original."""
    data = request.get_json(silent=True, force=True)
    return data if isinstance(data, dict) else {}


def strings(data: dict[str, Any], names: tuple[str, ...], missing: DomainError) -> list[str]:
    """The named values, each required to be a string."""
    if any(data.get(name) is None for name in names):
        raise missing
    for name in names:
        if not isinstance(data[name], str):
            raise errors.INVALID_VALUE(f"{name} must be a string")
    return [data[name] for name in names]
