"""Login sessions, kept in Redis: written by auth-service, read by every service.

The session record (documented here, and only here)
---------------------------------------------------
The client holds a 256-bit random token (cookie `session_id`). Redis never sees the token:

* ``session:<sha256(token)>`` -> JSON object, expiring with the session::

      {"id": "<uuid7>",              public id: listing and revoking, never a credential
       "user_id": "<uuid7>",
       "created_at": <unix s>, "last_seen_at": <unix s>,
       "authenticated_at": <unix s>, when the credentials were last proven in this session
                                     (sign-in, or re-authentication before a sensitive change)
       "expires_at": <unix s>,       sliding expiry, pushed forward on use
       "max_expires_at": <unix s>,   hard limit, never moved
       "remember_me": <bool>,        cookie persists (Max-Age) only when true
       "ip": "<client address>", "user_agent": "<at most 256 chars>",
       "role": "user" | "admin",     the account's role; changed in place when it changes
       "family": "v0" | "users_api"} the API family the session was opened through

* ``user_sessions:<user_id>`` -> hash ``{<session id>: <sha256(token)>}``, so a user's sessions
  can be listed and revoked together; entries whose record has expired are pruned on use.

Sliding refresh: when a read finds less than `refresh_threshold` of the sliding lifetime left,
it extends `expires_at` to ``min(now + sliding, max_expires_at)``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields, replace

import redis as redis_py

from tessera_shared.ids import digest, new_secret, uuid7

COOKIE_NAME = "session_id"
HOUR = 3600


@dataclass(frozen=True)
class SessionRecord:
    id: str
    user_id: str
    created_at: int
    last_seen_at: int
    expires_at: int
    max_expires_at: int
    remember_me: bool
    ip: str
    user_agent: str
    role: str = "user"
    family: str = "v0"
    authenticated_at: int = 0  # records written before the field: never recent

    @classmethod
    def from_json(cls, raw: bytes) -> SessionRecord:
        """A stored record; fields this code does not know (a newer release wrote them) are
        left aside rather than breaking every service that reads sessions."""
        stored = json.loads(raw)
        return cls(**{name: stored[name] for name in _FIELDS if name in stored})


_FIELDS = tuple(field.name for field in fields(SessionRecord))


@dataclass(frozen=True)
class SessionPolicy:
    sliding_seconds: int = 24 * HOUR
    max_lifetime_seconds: int = 30 * 24 * HOUR
    refresh_threshold: float = 0.5


def _record_key(token_hash: str) -> str:
    return f"session:{token_hash}"


def _index_key(user_id: str) -> str:
    return f"user_sessions:{user_id}"


@dataclass(frozen=True)
class Client:
    """Who is asking, as sessions and every credential check record it."""

    ip: str
    user_agent: str = ""
    device: str | None = None  # the browser's anonymous_user_id, if it sent one


class SessionStore:
    def __init__(self, redis: redis_py.Redis, policy: SessionPolicy | None = None) -> None:
        self.redis = redis
        self.policy = policy or SessionPolicy()

    def create(self, user_id: str, client: Client, *, remember_me: bool, role: str = "user",
               family: str = "v0") -> tuple[str, SessionRecord]:
        """A new session; returns the token for the cookie and the stored record."""
        now = int(time.time())
        token, policy = new_secret(), self.policy
        max_expires_at = now + policy.max_lifetime_seconds
        record = SessionRecord(
            id=str(uuid7()), user_id=user_id, created_at=now, last_seen_at=now,
            authenticated_at=now,
            expires_at=min(now + policy.sliding_seconds, max_expires_at),
            max_expires_at=max_expires_at, remember_me=remember_me, ip=client.ip,
            user_agent=client.user_agent[:256], role=role, family=family)
        token_hash = digest(token)
        pipe = self.redis.pipeline()
        pipe.set(_record_key(token_hash), json.dumps(asdict(record)), exat=record.expires_at)
        pipe.hset(_index_key(user_id), record.id, token_hash)
        # The newest session always ends last (lifetimes are equal), so its end is the index's.
        pipe.expireat(_index_key(user_id), max_expires_at)
        pipe.execute()
        return token, record

    def read(self, token: str | None, *, refresh: bool = True) -> SessionRecord | None:
        """The live session for a token, refreshed if it is due (unless `refresh` is off: a
        check that is not the user's own activity); None if unknown or expired."""
        if not token or len(token) > 128:
            return None
        key = _record_key(digest(token))
        raw = self.redis.get(key)
        if raw is None:
            return None
        record = SessionRecord.from_json(raw)
        now = int(time.time())
        if now >= record.expires_at or now >= record.max_expires_at:
            return None
        if refresh and (record.expires_at - now
                        < self.policy.sliding_seconds * self.policy.refresh_threshold):
            record = replace(record, last_seen_at=now, expires_at=min(
                now + self.policy.sliding_seconds, record.max_expires_at))
            self.redis.set(key, json.dumps(asdict(record)), exat=record.expires_at, xx=True)
        return record

    def revoke(self, token: str) -> SessionRecord | None:
        """End the session a token belongs to (logout)."""
        token_hash = digest(token)
        raw = self.redis.getdel(_record_key(token_hash))
        if raw is None:
            return None
        record = SessionRecord.from_json(raw)
        self.redis.hdel(_index_key(record.user_id), record.id)
        return record

    def list(self, user_id: str) -> list[SessionRecord]:
        """A user's live sessions, newest first; index entries of expired ones are pruned."""
        index = {sid.decode(): h.decode()
                 for sid, h in self.redis.hgetall(_index_key(user_id)).items()}
        if not index:
            return []
        raws = self.redis.mget([_record_key(h) for h in index.values()])
        live = [SessionRecord.from_json(raw) for raw in raws if raw is not None]
        expired = [sid for sid, raw in zip(index, raws, strict=True) if raw is None]
        if expired:
            self.redis.hdel(_index_key(user_id), *expired)
        return sorted(live, key=lambda record: record.id, reverse=True)  # ids are UUIDv7

    def keep_newest(self, user_id: str, family: str, count: int) -> int:
        """End all but the `count` newest sessions a user opened through `family`; returns
        how many ended."""
        opened = [record for record in self.list(user_id) if record.family == family]
        return sum(self.revoke_id(user_id, record.id) for record in opened[count:])

    def revoke_id(self, user_id: str, session_id: str) -> bool:
        """End one of a user's sessions by its public id; False if the user has no such one."""
        token_hash = self.redis.hget(_index_key(user_id), session_id)
        if token_hash is None:
            return False
        pipe = self.redis.pipeline()
        pipe.delete(_record_key(token_hash.decode()))
        pipe.hdel(_index_key(user_id), session_id)
        pipe.execute()
        return True

    def mark_authenticated(self, token: str) -> bool:
        """The session's owner has just proven their credentials again; False if the
        session is gone."""
        return self._amend(digest(token), authenticated_at=int(time.time()))

    def set_role(self, user_id: str, role: str) -> int:
        """Give every live session of a user a new role at once; returns how many."""
        index = self.redis.hgetall(_index_key(user_id))
        return sum(self._amend(token_hash.decode(), role=role) for token_hash in index.values())

    def _amend(self, token_hash: str, **changes: object) -> bool:
        """Change fields of a live record, keeping its expiry; False if it is gone."""
        key = _record_key(token_hash)
        raw = self.redis.get(key)
        if raw is None:
            return False
        record = replace(SessionRecord.from_json(raw), **changes)
        return bool(self.redis.set(key, json.dumps(asdict(record)), keepttl=True, xx=True))

    def revoke_all(self, user_id: str, *, keep: str | None = None) -> int:
        """End every session of a user, except the one with public id `keep`."""
        index = self.redis.hgetall(_index_key(user_id))
        doomed = {sid.decode(): h.decode() for sid, h in index.items() if sid.decode() != keep}
        if not doomed:
            return 0
        pipe = self.redis.pipeline()
        pipe.delete(*(_record_key(h) for h in doomed.values()))
        pipe.hdel(_index_key(user_id), *doomed)
        return int(pipe.execute()[0])
