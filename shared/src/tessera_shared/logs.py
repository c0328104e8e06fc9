"""JSON logs, one object per line, carrying the request id of the request being served."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from flask import g, has_request_context

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message"}
_ENCODER = json.JSONEncoder(default=str)  # json.dumps(default=...) would build one per line


class JsonFormatter(logging.Formatter):
    """Every service writes an access line per request: this runs on each of them."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        self._stamped = (-1, "")  # the last second formatted, and how

    def _timestamp(self, created: float) -> str:
        second = int(created)
        if self._stamped[0] != second:
            self._stamped = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return f"{self._stamped[1]}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self._timestamp(record.created),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        fields = vars(record)
        for key in sorted(fields.keys() - _STANDARD):
            entry[key] = fields[key]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(entry)


def configure(service: str, level: str = "INFO") -> None:
    """Route every logger of the process to stderr as JSON (idempotent)."""
    # Finding the caller walks the stack on every call, and no line shows where it was
    # made (the logging HOWTO's "Optimization"). Process and thread ids stay: gunicorn's own
    # log format prints them.
    logging._srcfile = None
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root.handlers[:] = [handler]
    root.setLevel(level)
