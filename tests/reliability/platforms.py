"""A platform for a drill that shares nothing with the suite's own: its own Redis (an event
stream two platforms share loses events to the other's consumers), and on a database server
(CI's second pass) its own databases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import drop_databases, unique_database_server
from tests.e2e.conftest import RunningPlatform, launch


@contextmanager
def own_platform(var_dir: Path, env: dict[str, str] | None = None, *,
                 replicas: int | None = None) -> Iterator[RunningPlatform]:
    server = unique_database_server()
    running = launch(var_dir, {"REDIS_URL": "", "DATABASE_URL": server or "", **(env or {})},
                     replicas=replicas)
    try:
        yield running
    finally:
        running.stop()
        if server:
            drop_databases(server)
