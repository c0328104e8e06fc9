"""The spec tells the truth: schemathesis, with every check, against the merged /swagger.json of
a running platform, signed in to every family; bounded by `tests/e2e/schemathesis.toml`.

By hand, against a platform you run: `schemathesis --config-file tests/e2e/schemathesis.toml
run http://127.0.0.1:8080/swagger.json`, with the variables the config names.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import RunningPlatform, new_user, signed_in, visitor
from tests.reliability.platforms import own_platform
from tests.tensamin import register_omikron

CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    """A platform of its own: fuzzing leaves throttles and odd accounts behind. It stands
    behind a "proxy" on the loopback, so the callers below sign in from addresses of their own
    (the fuzzer's failed sign-ins from the loopback are throttled)."""
    with own_platform(tmp_path_factory.mktemp("fuzzed") / "var",
                      {"TRUSTED_PROXIES": "127.0.0.1/32"}) as running:
        yield running


@pytest.fixture(scope="module")
def callers(fuzzed: RunningPlatform) -> dict[str, str]:
    """One signed-in caller per family, as the config's variables."""
    _, v0, _ = signed_in(fuzzed)
    user, client = new_user(), visitor()
    created = client.post(f"{fuzzed.url}/user/create", timeout=30, json={
        "username": user["handle"], "email": user["email"], "password": user["password"]})
    assert created.status_code == 200, created.text
    token = client.post(f"{fuzzed.url}/user/auth", timeout=30, json={
        "username": user["handle"], "password": user["password"]}).cookies["TOKEN"]
    login = client.post(f"{fuzzed.url}/api/login", timeout=30, json={
        "username": user["handle"], "password": user["password"]}).json()["data"]["message"]
    return {"TESSERA_V0_SESSION": v0.cookies["session_id"], "TESSERA_USER_API_TOKEN": token,
            "TESSERA_USERHASH": login["userhash"], "TESSERA_SSID": login["ssid"],
            "TESSERA_OMIKRON": register_omikron(fuzzed.var_dir).rest_id}


def signs_in(platform: RunningPlatform, given: dict[str, str]) -> dict[str, int]:
    url = platform.url
    basic = base64.b64encode(f"{given['TESSERA_USERHASH']}:{given['TESSERA_SSID']}".encode())
    return {
        "v0": requests.get(f"{url}/v0/user/me", timeout=30, cookies={
            "session_id": given["TESSERA_V0_SESSION"]}).status_code,
        "user API": requests.get(f"{url}/user/logged", timeout=30, cookies={
            "TOKEN": given["TESSERA_USER_API_TOKEN"]}).status_code,
        "users API": requests.get(f"{url}/api/users/info", timeout=30, headers={
            "Authorization": f"Basic {basic.decode()}"}).status_code,
        "registry": requests.get(f"{url}/api/get/iota-id/{uuid.uuid4()}", timeout=30, headers={
            "Authorization": given["TESSERA_OMIKRON"]}).status_code,
    }


SIGNED_IN = {"v0": 200, "user API": 200, "users API": 200, "registry": 404}  # no such user


def test_every_operation_answers_as_the_spec_says(fuzzed, callers):
    assert signs_in(fuzzed, callers) == SIGNED_IN
    # Each run its own reproducible sample; a failure names the seed that found it.
    seed = int.from_bytes(os.urandom(4), "big")
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--no-color", "--config-file", str(CONFIG),
         "run", f"{fuzzed.url}/swagger.json", "--seed", str(seed)],
        env={**os.environ, **callers}, capture_output=True, text=True, timeout=1200,
        check=False)
    assert run.returncode == 0, run.stdout[-40000:] + run.stderr[-2000:]
    # Still signed in: otherwise the signed-in operations were only ever refused.
    assert signs_in(fuzzed, callers) == SIGNED_IN
