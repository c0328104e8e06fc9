"""Redis clients. One pool per process; blocking readers get their own connection timeouts."""

from __future__ import annotations

import redis as redis_py


def connect(url: str, *, blocking_ms: int = 0) -> redis_py.Redis:
    """A client for `url`. `blocking_ms`: the longest BLOCK this client will issue."""
    return redis_py.Redis.from_url(
        url,
        socket_connect_timeout=2,
        socket_timeout=5 + blocking_ms / 1000,
        health_check_interval=30,
        retry_on_timeout=False,
    )
