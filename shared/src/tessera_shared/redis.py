"""Redis clients. One pool per process; blocking readers get their own connection timeouts.

Redis is one server (`REDIS_URL`), or the master a group of Sentinels names
(`REDIS_SENTINELS`, `REDIS_SENTINEL_MASTER`): redis-py's Sentinel client then asks them where
the master is, and asks again when a connection to it fails, so the platform follows a
failover by itself.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import redis as redis_py
from redis.sentinel import Sentinel

from tessera_shared.config import RedisLocation


def connect(location: RedisLocation, *, blocking_ms: int = 0) -> redis_py.Redis:
    """A client for `location`. `blocking_ms`: the longest BLOCK this client will issue."""
    options: dict[str, Any] = {"socket_connect_timeout": 2,
                               "socket_timeout": 5 + blocking_ms / 1000,
                               "health_check_interval": 30, "retry_on_timeout": False}
    if not location.sentinels:
        return redis_py.Redis.from_url(location.url, **options)
    parts = urlsplit(location.url)
    tls = {"ssl": True} if parts.scheme == "rediss" else {}  # to the Sentinels too
    options |= {"username": unquote(parts.username) if parts.username else None,
                "password": unquote(parts.password) if parts.password else None,
                "db": int(parts.path.strip("/") or 0), **tls}
    sentinel = Sentinel(list(location.sentinels), sentinel_kwargs={
        "password": location.sentinel_password, "socket_connect_timeout": 2,
        "socket_timeout": 2, **tls})
    return sentinel.master_for(location.master, **options)
