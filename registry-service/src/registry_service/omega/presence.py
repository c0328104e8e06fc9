"""Who is online where, as the connected Omikrons report it; shared by every registry
process through Redis. An Omikron's reports end with its connection."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import redis as redis_py

_ACTIVE = "registry:presence:omikrons"


def _users(omikron: int) -> str:
    return f"registry:presence:{omikron}:users"


def _iotas(omikron: int) -> str:
    return f"registry:presence:{omikron}:iotas"


@dataclass(frozen=True)
class Status:
    omikron_connections: list[int]
    online_status: str  # user_online | user_offline (its Iota is up) | iota_offline


class Presence:
    def __init__(self, redis: redis_py.Redis) -> None:
        self.redis = redis

    def joined(self, omikron: int) -> None:
        self.left(omikron)  # a reconnecting Omikron starts from what it reports anew
        self.redis.sadd(_ACTIVE, omikron)

    def left(self, omikron: int) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.srem(_ACTIVE, omikron)
        pipe.delete(_users(omikron), _iotas(omikron))
        pipe.execute()

    def connected(self, omikron: int, kind: str, member: object) -> None:
        key = _users(omikron) if kind == "user" else _iotas(omikron)
        self.redis.sadd(key, str(member))

    def disconnected(self, omikron: int, kind: str, member: object) -> None:
        key = _users(omikron) if kind == "user" else _iotas(omikron)
        self.redis.srem(key, str(member))

    def sync(self, omikron: int, users: Iterable[object], iotas: Iterable[object]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(_users(omikron), _iotas(omikron))
        for key, members in ((_users(omikron), users), (_iotas(omikron), iotas)):
            values = [str(member) for member in members]
            if values:
                pipe.sadd(key, *values)
        pipe.execute()

    def of_user(self, user_number: int, iota_id: str) -> Status:
        omikrons = sorted(int(o) for o in self.redis.smembers(_ACTIVE))
        pipe = self.redis.pipeline(transaction=False)
        for omikron in omikrons:
            pipe.sismember(_users(omikron), str(user_number))
            pipe.sismember(_iotas(omikron), iota_id)
        answers = pipe.execute()
        here = [o for o, on in zip(omikrons, answers[0::2], strict=True) if on]
        if here:
            return Status(here, "user_online")
        return Status([], "user_offline" if any(answers[1::2]) else "iota_offline")
