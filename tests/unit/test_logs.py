"""The JSON log line every service writes, the access line of each request included."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading

from flask import Flask, g

from tessera_shared.logs import JsonFormatter, configure


def line(formatter: JsonFormatter, message: str = "hello %s", *args: object,
         created: float = 1_764_633_600.25, exc_info: object = None, **extra: object) -> dict:
    record = logging.LogRecord("tessera.access", logging.INFO, __file__, 1, message,
                               args or ("world",), exc_info)
    record.created = created
    record.__dict__.update(extra)
    return json.loads(formatter.format(record))


def test_a_line_names_its_time_level_service_logger_and_message():
    assert line(JsonFormatter("user")) == {
        "ts": "2025-12-02T00:00:00.250Z", "level": "info", "service": "user",
        "logger": "tessera.access", "message": "hello world"}


def test_the_time_is_right_across_seconds_milliseconds_and_back():
    formatter = JsonFormatter("user")
    stamps = [line(formatter, created=at)["ts"] for at in
              (1_764_633_600.999, 1_764_633_601.0, 1_764_633_601.042, 1_764_633_599.5)]
    assert stamps == ["2025-12-02T00:00:00.999Z", "2025-12-02T00:00:01.000Z",
                      "2025-12-02T00:00:01.042Z", "2025-12-01T23:59:59.500Z"]


def test_extra_fields_are_kept_in_name_order_and_odd_values_written_as_text():
    found = line(JsonFormatter("auth"), status=200, duration_ms=1.5, error=ValueError("x"))
    assert list(found)[5:] == ["duration_ms", "error", "status"]
    assert (found["status"], found["duration_ms"], found["error"]) == (200, 1.5, "x")


def test_inside_a_request_the_line_carries_its_request_id():
    app = Flask(__name__)
    with app.test_request_context("/"):
        g.request_id = "trace-0001"
        assert line(JsonFormatter("user"))["request_id"] == "trace-0001"


def test_an_exception_is_written_with_its_traceback():
    try:
        raise RuntimeError("broken")
    except RuntimeError:
        found = line(JsonFormatter("user"), exc_info=sys.exc_info())
    assert "RuntimeError: broken" in found["exception"]


def test_configuring_leaves_what_other_formats_print(monkeypatch):
    # gunicorn's error log shares the process: its format prints the process id.
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setattr(logging, "_srcfile", logging._srcfile)
    configure("user")
    record = logging.getLogger("gunicorn.error").makeRecord(
        "gunicorn.error", logging.ERROR, __file__, 1, "boom", (), None)
    assert logging.Formatter("[%(process)d] [%(thread)d] %(message)s").format(record) == (
        f"[{os.getpid()}] [{threading.get_ident()}] boom")
