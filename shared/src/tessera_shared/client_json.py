"""JSON that comes from clients: request bodies in every service, WebSocket frames in the
registry. Python's parser recurses, so `[[[[...` a hundred thousand deep exhausts the stack
(a RecursionError, which the frameworks answer with a 500); here too deep is just not JSON."""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 32  # arrays and objects inside each other; no API of ours nests past 4


class RefusedJSONError(json.JSONDecodeError):
    """Malformed JSON to whatever reads it (webargs, Flask): parseable, but not taken."""

    def __init__(self, why: str) -> None:
        # a document that is not "": webargs takes an empty one for a missing body
        super().__init__(why, "[[[...", 0)


def _not_json(constant: str) -> float:
    raise RefusedJSONError(f"{constant} is not JSON")


def loads(text: str | bytes) -> Any:
    """Parse a client's JSON; a JSONDecodeError if it is not JSON (NaN and Infinity, which
    Python's parser takes, included), nests too deep or holds a number too long to convert
    (Python refuses integers of over 4,300 digits)."""
    try:
        value = json.loads(text, parse_constant=_not_json)
    except RecursionError:
        raise RefusedJSONError(f"JSON nested more than {MAX_DEPTH} deep") from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:
        raise RefusedJSONError(str(error)) from None
    pending = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        container, depth = pending.pop()
        for child in container.values() if isinstance(container, dict) else container:
            if isinstance(child, dict | list):
                if depth == MAX_DEPTH:
                    raise RefusedJSONError(f"JSON nested more than {MAX_DEPTH} deep")
                pending.append((child, depth + 1))
    return value


class ClientJSONProvider(DefaultJSONProvider):
    """Flask's JSON (`request.get_json`), reading bodies with `loads` above."""

    sort_keys = False  # answers keep each schema's field order

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)
