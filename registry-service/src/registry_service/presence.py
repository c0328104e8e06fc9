"""Who is online where, as the connected Omikrons report it; shared by every registry
process through Redis.

Reports belong to the connection that made them, not to the Omikron: a relay that reconnects
while its old socket has not yet timed out keeps what the new socket reports when the old one
ends. A connection that vanishes without ending (a registry process killed) stops counting
once it has not been touched for `stale_after` seconds, and its keys expire.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import redis as redis_py

_CONNECTIONS = "registry:presence:connections"  # sorted set: connection -> last touched


def _members(connection: str, kind: str) -> str:
    return f"registry:presence:{connection}:{kind}s"


@dataclass(frozen=True)
class Status:
    omikron_connections: list[int]
    online_status: str  # user_online | user_offline (its Iota is up) | iota_offline


class Presence:
    def __init__(self, redis: redis_py.Redis, stale_after: float) -> None:
        self.redis = redis
        self.stale_after = stale_after

    def joined(self, omikron: int) -> str:
        """A new connection of this Omikron; returns its key for the calls below."""
        connection = f"{omikron}:{uuid.uuid4().hex}"
        self.touch(connection)
        return connection

    def touch(self, connection: str) -> None:
        """The connection is alive (called as it pings)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(_CONNECTIONS, {connection: time.time()})
        for kind in ("user", "iota"):
            pipe.expire(_members(connection, kind), int(self.stale_after) + 1)
        pipe.execute()

    def left(self, connection: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(_CONNECTIONS, connection)
        pipe.delete(_members(connection, "user"), _members(connection, "iota"))
        pipe.execute()

    def connected(self, connection: str, kind: str, member: object) -> None:
        key = _members(connection, kind)
        pipe = self.redis.pipeline(transaction=False)
        pipe.sadd(key, str(member))
        pipe.expire(key, int(self.stale_after) + 1)
        pipe.execute()

    def disconnected(self, connection: str, kind: str, member: object) -> None:
        self.redis.srem(_members(connection, kind), str(member))

    def sync(self, connection: str, users: Iterable[object], iotas: Iterable[object]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for kind, members in (("user", users), ("iota", iotas)):
            key = _members(connection, kind)
            pipe.delete(key)
            values = [str(member) for member in members]
            if values:
                pipe.sadd(key, *values)
                pipe.expire(key, int(self.stale_after) + 1)
        pipe.execute()

    def of_user(self, user_number: int, iota_id: str) -> Status:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zremrangebyscore(_CONNECTIONS, "-inf", time.time() - self.stale_after)
        pipe.zrange(_CONNECTIONS, 0, -1)
        connections = [c.decode() if isinstance(c, bytes) else c for c in pipe.execute()[1]]
        pipe = self.redis.pipeline(transaction=False)
        for connection in connections:
            pipe.sismember(_members(connection, "user"), str(user_number))
            pipe.sismember(_members(connection, "iota"), iota_id)
        answers = pipe.execute()
        here = sorted({int(c.split(":", 1)[0])
                       for c, on in zip(connections, answers[0::2], strict=True) if on})
        if here:
            return Status(here, "user_online")
        return Status([], "user_offline" if any(answers[1::2]) else "iota_offline")
