"""Identifiers: time-ordered UUIDv7 (RFC 9562) and 256-bit secrets."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import time
import uuid
from datetime import datetime

# A request id a client or the gateway sent is kept if it looks like one; else a new one.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7() -> uuid.UUID:
    """A UUIDv7 whose 12-bit `rand_a` is a counter, so ids made in one process keep their order
    even within one millisecond (RFC 9562, method 1)."""
    global _last_ms, _counter  # noqa: PLW0603  # one clock per process, behind the lock
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms, _counter = ms, int.from_bytes(os.urandom(2)) & 0x3FF
        else:
            _counter += 1
            if _counter > 0xFFF:
                _last_ms, _counter = _last_ms + 1, 0
        ms, counter = _last_ms, _counter
    return _uuid7(ms, counter)


def _uuid7(ms: int, counter: int) -> uuid.UUID:
    tail = int.from_bytes(os.urandom(8)) & ((1 << 62) - 1)
    return uuid.UUID(int=(ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | tail)


def uuid7_after(previous: str) -> uuid.UUID:
    """A UUIDv7 that sorts after `previous` (one made anywhere, by any process or clock):
    a new one when the clock is past it, else `previous`'s successor in its millisecond."""
    made = uuid7()
    before = uuid.UUID(previous).int
    if made.int > before:
        return made
    ms, counter = before >> 80, (before >> 64) & 0xFFF
    return _uuid7(*((ms, counter + 1) if counter < 0xFFF else (ms + 1, 0)))


def uuid7_floor(moment: datetime) -> str:
    """The smallest UUIDv7 of `moment`'s millisecond: every id made then or later sorts after
    it, as a string too (they are written lowercase, with hyphens)."""
    return str(uuid.UUID(int=int(moment.timestamp() * 1000) << 80))


def new_secret() -> str:
    """A 256-bit random token, URL-safe base64 without padding (43 characters)."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """How a secret is stored: its SHA-256, hex. Tokens are random, so no salt is needed.
    Any string has one (a lone surrogate from a JSON escape, too: it just matches nothing)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def is_uuid(value: str) -> bool:
    """Whether `value` is a UUID as we write them (36 characters with hyphens)."""
    return bool(_UUID.match(value))


def request_id(incoming: str) -> str:
    """The id a request is logged and answered under: the one it came with, if acceptable."""
    return incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
