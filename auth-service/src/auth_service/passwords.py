"""Password hashing (argon2id) and the rules a new password must meet.

Hashing is CPU-bound and releases the GIL, so it runs in the request thread (auth-service
uses threaded workers, never an event loop), bounded to one hash per core so that a burst of
logins queues instead of starving everything else.
"""

from __future__ import annotations

import gzip
import os
import threading
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from tessera_shared.errors import validation_error

# 200: the most any family documents (the user API); the core policy asks at least 128.
MIN_LENGTH, MAX_LENGTH = 8, 200

# OWASP's minimum for argon2id: about 20 ms a hash on this machine kind, 100 logins/s on 2 cores.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
_slots = threading.BoundedSemaphore(os.cpu_count() or 1)


def hash_password(password: str) -> str:
    with _slots:
        return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (no such account, or no password) it costs the same."""
    with _slots:
        try:
            _hasher.verify(password_hash or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return False
    return password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return _hasher.hash(os.urandom(16).hex())


@cache
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("data") / "common-passwords.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines)


def check_new_password(password: str, *, field: str = "password") -> None:
    """The core policy for a password being set: 8 to 200 characters and not a common one.
    A refusal names `field`, the request's name for the password, so a client can show it
    beside the right input."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise validation_error(f"{field}: must be {MIN_LENGTH} to {MAX_LENGTH} characters.")
    if password.lower().strip() in _common_passwords():
        raise validation_error(f"{field}: this password is too common; choose another.")
