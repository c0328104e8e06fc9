"""Throttling of credential checks, shared by every node through Redis.

Each rule counts failures per subject (an account, an address) within a window. The first
`free` failures cost nothing; after that, each further attempt must wait a delay that doubles
with every failure, up to `max_delay`. A check made too early is refused before any secret is
compared, and the caller answers it exactly like a wrong secret, so throttling reveals nothing
an attacker could not already see. A success clears the account's count, not the address's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis as redis_py


@dataclass(frozen=True)
class Rule:
    scope: str             # e.g. "password:account"
    free: int              # failures allowed before any delay
    base_delay: float      # seconds, doubled with each further failure
    max_delay: float
    window: int            # seconds a failure is remembered

    def key(self, subject: str) -> str:
        return f"throttle:{self.scope}:{subject}"

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.base_delay * 2 ** (failures - self.free), self.max_delay)


# Per account: a few typos are free; a guesser soon waits minutes between tries.
PASSWORD_PER_ACCOUNT = Rule("password:account", free=5, base_delay=1, max_delay=900,
                            window=3600)
# Per address: generous (shared NATs, offices), but bounds one machine's guessing rate.
PASSWORD_PER_IP = Rule("password:ip", free=30, base_delay=1, max_delay=300, window=3600)
# Short codes (TOTP, backup codes, mailed one-time codes): a million six-digit codes would
# fall to an unthrottled guesser within a day.
CODE_PER_ACCOUNT = Rule("code:account", free=5, base_delay=1, max_delay=900, window=3600)
CODE_PER_IP = Rule("code:ip", free=30, base_delay=1, max_delay=300, window=3600)
# Mails one can make Tessera send to an account (reset, verification, email change): a few
# an hour, then a growing delay, so nobody can flood someone's mailbox through us.
MAIL_PER_ACCOUNT = Rule("mail:account", free=3, base_delay=60, max_delay=3600, window=3600)
# The registry's secrets (private-key hashes, reset tokens) are long and random; this stops
# guessing and bounds what a stolen-but-wrong secret can try.
SECRET_PER_ACCOUNT = Rule("secret:account", free=5, base_delay=1, max_delay=900, window=3600)
SECRET_PER_IP = Rule("secret:ip", free=30, base_delay=1, max_delay=300, window=3600)
# Registration ids one address may open (each waits an hour in Redis): plenty for an Iota
# signing its users up, not enough to fill Redis.
REGISTRATIONS_PER_IP = Rule("registration:ip", free=100, base_delay=10, max_delay=3600,
                            window=3600)
# Emailed tokens are unguessable (256 bits); this only stops one address from trying floods.
TOKEN_PER_IP = Rule("token:ip", free=20, base_delay=1, max_delay=300, window=3600)


class Throttle:
    def __init__(self, redis: redis_py.Redis) -> None:
        self.redis = redis

    def allows(self, *checks: tuple[Rule, str]) -> bool:
        """Whether a credential check for these subjects may happen now."""
        pipe = self.redis.pipeline(transaction=False)
        for rule, subject in checks:
            pipe.hmget(rule.key(subject), "failures", "last")
        now = time.time()
        for (rule, _subject), (failures, last) in zip(checks, pipe.execute(), strict=True):
            if failures is not None and now - float(last) < rule.delay(int(failures)):
                return False
        return True

    def failed(self, *checks: tuple[Rule, str]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for rule, subject in checks:
            key = rule.key(subject)
            pipe.hincrby(key, "failures", 1)
            pipe.hset(key, "last", time.time())
            pipe.expire(key, rule.window)
        pipe.execute()

    def take(self, rule: Rule, subject: str) -> bool:
        """For rate limits rather than secrets: True, and counted, if the action may happen."""
        if not self.allows((rule, subject)):
            return False
        self.failed((rule, subject))
        return True

    def succeeded(self, rule: Rule, subject: str) -> None:
        self.redis.delete(rule.key(subject))
