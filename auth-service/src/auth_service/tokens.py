"""Single-use tokens (the emailed ones, the TOTP login step, the OAuth state and pending
sign-up, the passkey ceremonies' challenges), kept in Redis.

A token is 256 random bits; Redis keeps only its SHA-256, with the token's lifetime as TTL,
and redeeming it deletes it (GETDEL). So a used, expired or unknown token all look the same.
Nobody guesses 256 bits, but a flood of tries is still counted per address (`TOKEN_PER_IP`):
past it, even a real token from that address is refused for a while, like a wrong one.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis as redis_py
from redis.lock import Lock

from tessera_shared.ids import digest, new_secret
from tessera_shared.throttle import TOKEN_PER_IP, Throttle


@dataclass(frozen=True)
class Kind:
    prefix: str
    lifetime: int  # seconds, as the v0 original
    remembered: int = 0  # how long an unspent token that ran out is still known as expired


VERIFICATION = Kind("email_verification", 60 * 60)
PASSWORD_RESET = Kind("password_reset", 15 * 60, remembered=24 * 3600)
EMAIL_CHANGE = Kind("email_change", 15 * 60)
EMAIL_CHANGE_REPORT = Kind("email_change_report", 7 * 24 * 3600)  # mailed to the old address
TOTP_LOGIN = Kind("totp_login", 120)
OAUTH_STATE = Kind("oauth_state", 300)
OAUTH_PENDING = Kind("oauth_pending", 10 * 60)  # consumed only by a sign-up that succeeds
PASSKEY_CHALLENGE = Kind("passkey_challenge", 5 * 60)  # the token is the challenge itself


class TokenStore:
    def __init__(self, redis: redis_py.Redis, throttle: Throttle) -> None:
        self.redis = redis
        self.throttle = throttle

    def issue(self, kind: Kind, payload: dict[str, Any]) -> str:
        token = new_secret()
        pipe = self.redis.pipeline()
        pipe.set(_key(kind, token), json.dumps(payload), ex=kind.lifetime)
        if kind.remembered:
            pipe.set(_expiry_key(kind, token), time.time() + kind.lifetime,
                     ex=kind.lifetime + kind.remembered)
        pipe.execute()
        return token

    def redeem(self, kind: Kind, token: str, *, ip: str) -> dict[str, Any] | None:
        """The token's payload, once; None for a used, expired or unknown token, and while
        `ip` is throttled."""
        if not self.throttle.attempt((TOKEN_PER_IP, ip)) or not _plausible(token):
            return None
        raw = self.redis.getdel(_key(kind, token))
        if raw is None:
            return None
        self.throttle.succeeded((TOKEN_PER_IP, ip))
        if kind.remembered:
            self.redis.delete(_expiry_key(kind, token))  # spent: unknown from now on
        return json.loads(raw)

    def expired(self, kind: Kind, token: str) -> bool:
        """Whether the token was issued, never spent, and ran out (for kinds that remember)."""
        if not kind.remembered or not _plausible(token):
            return False
        expiry = self.redis.get(_expiry_key(kind, token))
        return expiry is not None and time.time() >= float(expiry)

    def read(self, kind: Kind, token: str) -> dict[str, Any] | None:
        """The token's payload, leaving it in place (`discard` spends it)."""
        if not _plausible(token):
            return None
        raw = self.redis.get(_key(kind, token))
        return None if raw is None else json.loads(raw)

    def discard(self, kind: Kind, token: str) -> None:
        self.redis.delete(_key(kind, token))

    def lock(self, kind: Kind, token: str) -> Lock:
        """A lock on one token for a minute at most, for work that may spend it once."""
        return self.redis.lock(f"{_key(kind, token)}:lock", timeout=60)


def _plausible(token: str) -> bool:
    return bool(token) and len(token) <= 128


def _key(kind: Kind, token: str) -> str:
    return f"{kind.prefix}:{digest(token)}"


def _expiry_key(kind: Kind, token: str) -> str:
    return f"{kind.prefix}:expiry:{digest(token)}"
