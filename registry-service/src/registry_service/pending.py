"""Registration ids: issued by `register/init` (a UUIDv7) or `get_register` (a number), open
for exactly one hour, completed at most once. They live in Redis, so a restart of the
registry loses none, and every registry process sees the same ones.

The protocol's numbers (users, Iotas, Omikrons) are millisecond timestamps made unique by a
shared "last issued" counter, as the original does in one process.
"""

from __future__ import annotations

import time

import redis as redis_py

LIFETIME_MS = 3_600_000
_LAST_NUMBER = "registry:last_number"
# max(now, last + 1), atomically for every process sharing the Redis.
_NEXT_NUMBER = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
if now <= last then now = last + 1 end
redis.call('SET', KEYS[1], now)
return now
"""


def _key(registration_id: str) -> str:
    return f"registry:pending:{registration_id}"


class Registrations:
    def __init__(self, redis: redis_py.Redis) -> None:
        self.redis = redis
        self._next_number = redis.register_script(_NEXT_NUMBER)

    def next_number(self) -> int:
        return int(self._next_number(keys=[_LAST_NUMBER], args=[time.time_ns() // 1_000_000]))

    def open(self, registration_id: str) -> None:
        self.redis.set(_key(registration_id), 1, px=LIFETIME_MS)

    def claim(self, registration_id: str) -> int | None:
        """Take an open id, so no concurrent completion can; returns the milliseconds it had
        left (for `reopen` if the registration then fails), or None if it was not open."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.pttl(_key(registration_id))
        pipe.delete(_key(registration_id))
        remaining, deleted = pipe.execute()
        return remaining if deleted and remaining > 0 else None

    def reopen(self, registration_id: str, remaining_ms: int) -> None:
        """Give back a claimed id whose registration failed, with the time it had left."""
        self.redis.set(_key(registration_id), 1, px=remaining_ms, nx=True)
