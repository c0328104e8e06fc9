"""Password reset by a mailed six-digit code (the users API's flow), named by a request id.

The request id goes back to whoever asked; the code goes to the account's mailbox. Redis keeps
each request for 30 minutes (the original's intended validity): the user, the userhash it was
asked under and the code's digest. A user has one live request (a new one replaces it), and a
code works once: deleting the request decides a race.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass

import redis as redis_py

from tessera_shared.ids import digest

LIFETIME = 30 * 60


def new_request_id() -> str:
    return secrets.token_hex(8)  # 16 hex characters, as the original's


@dataclass(frozen=True)
class ResetRequest:
    request_id: str
    user_id: str
    userhash: str
    code_digest: str
    stamp: str | None = None  # the account's credential stamp when the code was sent

    def matches(self, userhash: str, code: str) -> bool:
        # Both compared, always, in constant time.
        same_user = hmac.compare_digest(self.userhash.encode(), userhash.encode())
        same_code = hmac.compare_digest(self.code_digest, _code_digest(self.request_id, code))
        return same_user & same_code


def _code_digest(request_id: str, code: str) -> str:
    return digest(f"{request_id}:{code}")


class ResetCodes:
    def __init__(self, redis: redis_py.Redis) -> None:
        self.redis = redis

    def issue(self, user_id: str, userhash: str, stamp: str) -> tuple[str, str]:
        """A new request for the user, replacing the previous one: (request id, code)."""
        request_id, code = new_request_id(), str(100_000 + secrets.randbelow(900_000))
        record = {"user_id": user_id, "userhash": userhash,
                  "code_digest": _code_digest(request_id, code), "stamp": stamp}
        previous = self.redis.set(f"reset_code_of:{user_id}", request_id, ex=LIFETIME, get=True)
        pipe = self.redis.pipeline()
        if previous is not None:
            pipe.delete(f"reset_code:{previous.decode()}")
        pipe.set(f"reset_code:{request_id}", json.dumps(record), ex=LIFETIME)
        pipe.execute()
        return request_id, code

    def find(self, request_id: str) -> ResetRequest | None:
        if len(request_id) > 64:
            return None
        raw = self.redis.get(f"reset_code:{request_id}")
        return None if raw is None else ResetRequest(request_id, **json.loads(raw))

    def spend(self, request: ResetRequest) -> bool:
        """True for exactly one caller per request."""
        if not self.redis.delete(f"reset_code:{request.request_id}"):
            return False
        self.redis.delete(f"reset_code_of:{request.user_id}")
        return True
