"""The anchor of the per-request floor: a bare Flask app answering what user-service's handle
check answers, from the same SQLite file, with nothing around it (no hooks, logs, metrics,
ORM or schemas). `bench/floor.py` serves it exactly as it serves user-service.

    BARE_DATABASE=var/user.sqlite3 gunicorn -k gthread --threads 8 bench.bare:app
"""

from __future__ import annotations

import os
import sqlite3
import threading

from flask import Flask, Response, jsonify

from user_service.models import handle_key

app = Flask(__name__)
_local = threading.local()


def _connection() -> sqlite3.Connection:
    # One connection per thread, opened once: what a connection pool gives a service.
    if not hasattr(_local, "connection"):
        _local.connection = sqlite3.connect(os.environ["BARE_DATABASE"])
    return _local.connection


@app.get("/v0/users/handle/<handle>/available")
def available(handle: str) -> Response:
    taken = _connection().execute("SELECT 1 FROM profiles WHERE handle_key = ? LIMIT 1",
                                  (handle_key(handle),)).fetchone()
    return jsonify(available=taken is None)
