"""ASVS V13 and V14, the API's edges: the internal API is unreachable from outside and
deaf to anything unsigned or replayed, methods a path does not take are refused with the ones
it does, and what caches may keep carries nobody's cookie."""

from __future__ import annotations

import json
import secrets
import time

import pytest
import requests

from tessera_launcher.launch import load_secrets
from tessera_shared import internal
from tessera_shared.ids import uuid7
from tests.e2e.conftest import RunningPlatform, unique


@pytest.mark.asvs("V1.4.1", "V13.1.4")
def test_v1_4_1_internal_endpoints_are_unreachable_through_the_gateway(platform):
    for path in ("/internal/accounts/x", "/internal/profiles"):
        assert requests.post(f"{platform.url}{path}", json={}).status_code == 404


def internal_secret(platform: RunningPlatform) -> bytes:
    return load_secrets(platform.var_dir, {})["INTERNAL_SECRET"].encode()


def new_profile(name: str) -> bytes:
    """The body of an internal call that makes a profile (user-service's first door)."""
    return json.dumps({"id": str(uuid7()), "handle": unique(), "display_name": name}).encode()


def forged(path: str, body: bytes, secret: bytes, *, age: int = 0) -> dict[str, str]:
    """The headers of an internal call signed with `secret`, made `age` seconds ago."""
    timestamp, nonce = str(int(time.time()) - age), secrets.token_hex(16)
    return {internal.CALLER: "auth", internal.TIMESTAMP: timestamp, internal.NONCE: nonce,
            internal.SIGNATURE: internal.sign(secret, internal.Call("POST", path, body),
                                              timestamp, nonce),
            "Content-Type": "application/json"}


@pytest.mark.asvs("V13.2.6")
def test_v13_2_6_a_service_refuses_internal_calls_with_a_wrong_or_missing_signature(platform):
    user_service, body = platform.facts["user_url"], new_profile("Mallory")
    for headers in ({"Content-Type": "application/json"},
                    forged("/internal/profiles", body, b"guessed secret"),
                    forged("/internal/profiles", body, internal_secret(platform), age=3600)):
        response = requests.post(f"{user_service}/internal/profiles", data=body,
                                 headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json()["code"] == "system:unauthorized_internal_call"


@pytest.mark.asvs("V13.2.6")
def test_v13_2_6_a_replayed_internal_call_is_refused(platform):
    user_service, body = platform.facts["user_url"], new_profile("Replay")
    headers = forged("/internal/profiles", body, internal_secret(platform))
    first = requests.post(f"{user_service}/internal/profiles", data=body, headers=headers,
                          timeout=10)
    assert first.status_code == 201
    replay = requests.post(f"{user_service}/internal/profiles", data=body, headers=headers,
                           timeout=10)
    assert replay.status_code == 401


@pytest.mark.asvs("V13.2.1", "V14.5.1")
def test_v13_2_1_a_method_a_path_does_not_take_is_405_with_every_method_it_does(platform):
    """The gateway answers from the merged document: /v0/user/me is two services' (DELETE is
    auth's, GET and PATCH user's), and its Allow names them all."""
    traced = requests.request("TRACE", f"{platform.url}/v0/user/me", timeout=30)
    assert (traced.status_code, traced.json()["code"]) == (405, "system:method_not_allowed")
    assert traced.headers["Allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH"
    asked = requests.options(f"{platform.url}/v0/user/me", timeout=30)
    assert (asked.status_code, asked.headers["Allow"]) == (204, traced.headers["Allow"])
    # The users API keeps its original's answer to a wrong method.
    wrong = requests.get(f"{platform.url}/api/users/register", timeout=30)
    assert (wrong.status_code, wrong.json()["data"]["message"]) == (422, "INVALID_METHOD")


@pytest.mark.asvs("V8.1.1")
def test_v8_1_1_cached_page_assets_set_no_cookie(platform):
    asset = requests.get(f"{platform.url}/console/console.css", timeout=10)
    assert asset.status_code == 200
    assert "public" in asset.headers["Cache-Control"]
    assert "Set-Cookie" not in asset.headers
    api = requests.get(f"{platform.url}/v0/users/handle/someone/available", timeout=10)
    assert "anonymous_user_id=" in api.headers["Set-Cookie"]  # the API still marks visitors

