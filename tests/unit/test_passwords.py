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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice per thread is Linux's")
def test_hashing_runs_in_its_own_threads_below_the_request_threads_priority():
    def where() -> tuple[str, int]:
        me = threading.current_thread()
        return me.name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    name, nice = passwords._hashing().submit(where).result()
    assert name.startswith("argon2")
    assert nice == min(19, os.getpriority(os.PRIO_PROCESS, 0) + passwords.HASHING_NICE)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < nice  # callers: not


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
