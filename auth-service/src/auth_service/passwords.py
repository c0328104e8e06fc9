"""Password hashing (argon2id) and the rules a new password must meet.

Hashing is CPU-bound and releases the GIL. It runs in a pool of its own, one thread per core,
so a burst of logins queues there, and those threads run at a lower CPU priority than the
request threads (Linux applies `nice` per thread): the logins take the CPU that other
requests leave, instead of starving the session checks beside them, and still hash at the
full rate when nothing else runs. A request thread waits for its hash without holding the
GIL (auth-service uses threaded workers, never an event loop).
"""

from __future__ import annotations

import contextlib
import gzip
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from tessera_shared.errors import validation_error

# 200: the most any family documents (the user API); the core policy asks at least 128.
MIN_LENGTH, MAX_LENGTH = 8, 200

# OWASP's minimum for argon2id: about 20 ms a hash on this machine kind, 100 logins/s on 2 cores.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
HASHING_NICE = 10  # CFS gives a thread 10 below another about a tenth of the core they share


def _lower_priority() -> None:
    with contextlib.suppress(OSError):  # not permitted, or not Linux: hash at full priority
        me = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, me,
                       min(19, os.getpriority(os.PRIO_PROCESS, me) + HASHING_NICE))


# Its threads start with the first hash, so in each gunicorn worker after it has forked.
_HASHING = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="argon2",
                              initializer=_lower_priority)


def hash_password(password: str) -> str:
    return _HASHING.submit(HASHER.hash, password).result()


def _matches(password_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (no such account, or no password) it costs the same."""
    return _HASHING.submit(_matches, password_hash, password).result() and (
        password_hash is not None)


def needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    """Made once per process, in the hashing pool (two first callers may both make one)."""
    return HASHER.hash(os.urandom(16).hex())


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
