"""gunicorn settings and hooks for every Tessera process.

Used as `gunicorn -c python:tessera_shared.gunicorn_conf ...`.

Workers start the app's background threads (outbox relay, consumers) once the app is loaded,
and stop them on exit; Prometheus' per-worker files are cleaned when a worker dies.
"""

from __future__ import annotations

import gc
import os
from typing import Any

# gunicorn >= 25.1 would otherwise make every service share one ~/.gunicorn control socket.
control_socket_disable = True
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))  # the gateway keeps pooled connections
graceful_timeout = 10
accesslog = None                  # services log requests themselves, as JSON


def _platform(worker: Any) -> Any:
    app = getattr(worker, "wsgi", None)
    extensions = getattr(app, "extensions", {})
    return extensions.get("tessera")


def pre_fork(server: Any, worker: Any) -> None:
    # A worker shares the master's pages until one of them writes to a page; the cyclic
    # collector's bookkeeping would write to every object the master made, so those are
    # moved where it never looks (what the gc module's docs advise before a fork).
    gc.freeze()


def post_worker_init(worker: Any) -> None:
    if (platform := _platform(worker)) is not None:
        platform.start_background()


def worker_exit(server: Any, worker: Any) -> None:
    if (platform := _platform(worker)) is not None:
        platform.stop_background()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Here, not at the top: this module loads in the master, which needs Prometheus only
        # when a worker dies, and the worker imports it anyway.
        from prometheus_client import multiprocess  # noqa: PLC0415

        multiprocess.mark_process_dead(worker.pid)
