"""Fifty sign-ups at once for one handle, or one address, through every family that makes
accounts: exactly one wins, and nothing is left of the others."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.conftest import RunningPlatform, unique, visitor
from tests.reliability.platforms import own_platform
from tests.tensamin import Iota, IotaUser

CONTENDERS = 50
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    with own_platform(tmp_path_factory.mktemp("races") / "var",
                      {"TRUSTED_PROXIES": "127.0.0.1/32"}) as platform:
        yield platform


def at_once(attempts: list[Callable[[], bool]]) -> list[bool]:
    """Run every attempt in a thread of its own, released together; whether each won (an
    attempt's failed assertion fails the test)."""
    start = threading.Barrier(len(attempts))

    def run(attempt: Callable[[], bool]) -> bool:
        start.wait()
        return attempt()

    with ThreadPoolExecutor(len(attempts)) as pool:
        return [future.result(timeout=120)
                for future in [pool.submit(run, attempt) for attempt in attempts]]


def sign_up(base: str, family: str, handle: str, email: str) -> bool:
    http = visitor()
    if family == "v0":
        answer = http.post(f"{base}/v0/users", timeout=120, json={
            "email": email, "handle": handle, "display_name": "Racer", "password": PASSWORD})
        assert answer.status_code in {201, 409}, answer.text
        return answer.status_code == 201
    if family == "users API":
        answer = http.post(f"{base}/api/users/register", timeout=120, json={
            "username": handle, "password": PASSWORD, "email": email})
        assert answer.status_code in {200, 409}, answer.text  # a taken address: 409
        return answer.json()["success"] is True
    if family == "user API":
        answer = http.post(f"{base}/user/create", timeout=120, json={
            "username": handle, "password": PASSWORD, "email": email})
        assert answer.status_code in {200, 409}, answer.text
        return answer.status_code == 200
    done = Iota(base, http).register(IotaUser(handle))
    assert done["status"] in {200, 409}, done
    return done["type"] == "success"


FAMILIES = ("v0", "users API", "user API", "registry")


def profile_of(running: RunningPlatform, handle: str) -> dict[str, object]:
    answer = requests.get(f"{running.url}/v0/users/profile", params={"handle": handle},
                          timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_fifty_sign_ups_for_one_handle_across_families_make_one_account(running):
    handle = unique("race")
    won = at_once([
        lambda n=n: sign_up(running.url, FAMILIES[n % 4], handle, f"{handle}-{n}@example.com")
        for n in range(CONTENDERS)])
    assert sum(won) == 1
    assert profile_of(running, handle)["handle"] == handle
    # The losers' addresses are free: nothing of theirs was left behind.
    loser = next(n for n in range(CONTENDERS) if not won[n] and FAMILIES[n % 4] == "v0")
    assert sign_up(running.url, "v0", unique(), f"{handle}-{loser}@example.com")


def test_fifty_sign_ups_for_one_address_across_families_make_one_account(running):
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    handles = [unique("addr") for _ in range(CONTENDERS)]
    won = at_once([lambda n=n: sign_up(running.url, FAMILIES[n % 3], handles[n], email)
                   for n in range(CONTENDERS)])
    assert sum(won) == 1
    # Each loser's handle was given back (a saga's profile is removed when its account fails).
    free = [requests.get(f"{running.url}/v0/users/handle/{handle}/available",
                         timeout=30).json()["available"] for handle in handles]
    assert [not available for available in free] == won
