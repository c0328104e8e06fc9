import os
import sys
import threading

import pytest
from argon2 import PasswordHasher

from auth_service import passwords
from tessera_shared.errors import DomainError


def test_a_hash_verifies_its_password_only():
    stored = passwords.hash_password("a long passphrase")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password(stored, "a long passphrase")
    assert not passwords.verify_password(stored, "a long passphrasE")


def test_no_hash_never_verifies_yet_still_pays_for_a_hash():
    assert not passwords.verify_password(None, "anything")


class Recording:
    """argon2's hasher, noting the thread each hash runs in."""

    def __init__(self) -> None:
        self.threads: list[str] = []

    def hash(self, password: str) -> str:
        self.threads.append(threading.current_thread().name)
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(password)

    def verify(self, stored: str, password: str) -> bool:
        self.threads.append(threading.current_thread().name)
        return PasswordHasher().verify(stored, password)


def test_every_hash_runs_in_the_hashing_pool_even_for_unknown_accounts(monkeypatch):
    recording = Recording()
    monkeypatch.setattr(passwords, "HASHER", recording)
    passwords._dummy_hash.cache_clear()
    stored = passwords.hash_password("a long passphrase")
    assert passwords.verify_password(stored, "a long passphrase")
    assert not passwords.verify_password(None, "a long passphrase")  # no account: one more
    passwords._dummy_hash.cache_clear()
    assert len(recording.threads) == 4  # hash, verify, the dummy's hash, its verify
    assert all(name.startswith("argon2") for name in recording.threads)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice per thread is Linux's")
def test_the_hashing_threads_run_below_the_request_threads_priority():
    def nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    caller = nice()
    assert passwords._HASHING.submit(nice).result() == min(19, caller + passwords.HASHING_NICE)


def test_hashes_made_with_weaker_parameters_are_due_for_rehash():
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw")
    assert passwords.needs_rehash(weak)
    assert not passwords.needs_rehash(passwords.hash_password("pw"))


@pytest.mark.parametrize("password", ["short", "x" * 201, "password1", "qwertyuiop", "Iloveyou1"])
def test_new_passwords_must_be_8_to_200_and_not_common(password):
    with pytest.raises(DomainError) as caught:
        passwords.check_new_password(password)
    assert caught.value.code == "general:validation_error"


def test_long_passphrases_are_welcome():
    passwords.check_new_password("correct horse battery staple " * 4)
