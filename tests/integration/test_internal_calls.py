import secrets
import time

import pytest

from tessera_shared import internal
from tessera_shared.errors import DomainError

SECRET = b"k" * 32


def signed(method="POST", path="/internal/profiles", body=b"{}", secret=SECRET, **overrides):
    timestamp = overrides.pop("timestamp", str(int(time.time())))
    nonce = overrides.pop("nonce", secrets.token_hex(16))
    headers = {internal.CALLER: "auth", internal.TIMESTAMP: timestamp, internal.NONCE: nonce,
               internal.SIGNATURE: internal.sign(secret, internal.Call(method, path, body),
                                                 timestamp, nonce)}
    return {**headers, **overrides}


def check(redis_client, headers, method="POST", path="/internal/profiles", body=b"{}"):
    return internal.verify(SECRET, redis_client, internal.Call(method, path, body), headers)


def test_a_correctly_signed_call_names_its_caller(redis_client):
    assert check(redis_client, signed()) == "auth"


@pytest.mark.parametrize("tamper", [
    {"secret": b"wrong" * 8},                                   # wrong secret
    {"timestamp": str(int(time.time()) - 120)},                 # too old
    {"nonce": "short"},                                         # malformed
])
def test_wrong_or_stale_signatures_are_refused(redis_client, tamper):
    with pytest.raises(DomainError) as caught:
        check(redis_client, signed(**tamper))
    assert caught.value.status == 401


def test_a_signature_covers_method_path_and_body(redis_client):
    for method, path, body in (("DELETE", "/internal/profiles", b"{}"),
                               ("POST", "/internal/accounts", b"{}"),
                               ("POST", "/internal/profiles", b'{"x":1}')):
        with pytest.raises(DomainError):
            check(redis_client, signed(), method, path, body)


def test_a_replayed_call_is_refused(redis_client):
    headers = signed()
    check(redis_client, headers)
    with pytest.raises(DomainError):
        check(redis_client, headers)


def test_an_unsigned_call_is_refused(redis_client):
    with pytest.raises(DomainError):
        check(redis_client, {})
