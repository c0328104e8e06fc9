"""A bounded soak: a minute of mixed traffic from every family, with user-service killed in the
middle. No answer is a 5xx other than the gateway's 502/503 while user-service is down,
nothing hangs, and every account made shows in the action log exactly once."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from tests.e2e.conftest import RunningPlatform, unique, visitor
from tests.reliability.platforms import own_platform
from tests.reliability.test_durability import arrive_exactly_once
from tests.reliability.test_supervisor import kill, started_again
from tests.tensamin import Iota, IotaUser

SECONDS = 60
KILL_AT = 20
CLIENTS = 4
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Answer:
    what: str
    status: int
    started: float
    ended: float


@pytest.fixture
def running(tmp_path) -> Iterator[RunningPlatform]:
    with own_platform(tmp_path / "var", {"TRUSTED_PROXIES": "127.0.0.1/32"}) as platform:
        yield platform


def v0_sign_up(base: str, http: requests.Session, handle: str) -> int:
    return http.post(f"{base}/v0/users", timeout=30, json={
        "email": f"{handle}@example.com", "handle": handle, "display_name": "Soak",
        "password": PASSWORD}).status_code


def users_api_sign_up(base: str, http: requests.Session, handle: str) -> int:
    answer = http.post(f"{base}/api/users/register", timeout=30, json={
        "username": handle, "password": PASSWORD, "email": f"{handle}@example.com"})
    return 201 if answer.status_code == 200 and answer.json()["success"] is True else (
        answer.status_code)


def user_api_sign_up(base: str, http: requests.Session, handle: str) -> int:
    return 201 if (status := http.post(f"{base}/user/create", timeout=30, json={
        "username": handle, "password": PASSWORD, "email": f"{handle}@example.com"}
    ).status_code) == 200 else status


def registry_sign_up(base: str, http: requests.Session, handle: str) -> int:
    done = Iota(base, http).register(IotaUser(handle))
    return 201 if done["type"] == "success" else done["status"]


SIGN_UPS = {"v0 sign-up": v0_sign_up, "users API sign-up": users_api_sign_up,
            "user API sign-up": user_api_sign_up, "registry sign-up": registry_sign_up}


def read(base: str, http: requests.Session, handle: str) -> int:
    path = random.choice([f"/v0/users/profile?handle={handle}", "/v0/action-logs?limit=20",
                          f"/v0/search/users?query={handle[:4]}&page=1&page_size=5",
                          f"/api/get/uuid/{handle.lower()}", f"/user/profile/{handle}"])
    return http.get(base + path, timeout=30).status_code


def test_a_minute_of_traffic_with_user_service_killed_in_the_middle(running):
    base, answers, made = running.url, [], []
    lock, stop = threading.Lock(), threading.Event()

    def client(seed: int) -> None:
        kinds, known = itertools.cycle([*SIGN_UPS, "read", "read"]), None
        for kind in itertools.islice(kinds, seed, None):
            if stop.is_set():
                return
            # Each action from an address of its own: many people, not one very busy one
            # (whom the registry's limit on registrations would stop).
            http, handle, started = visitor(), unique("soak"), time.monotonic()
            status = (read(base, http, known) if kind == "read" and known
                      else SIGN_UPS.get(kind, v0_sign_up)(base, http, handle))
            with lock:
                answers.append(Answer(kind, status, started, time.monotonic()))
                if status == 201:
                    made.append(handle)
                    known = handle

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(KILL_AT)
    killed_at = time.monotonic()
    started_again(running, "user", kill(running, "user"))
    back_at = time.monotonic()
    time.sleep(max(0.0, SECONDS - (back_at - began)))
    stop.set()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a client hangs"

    print(f"soak: {len(answers)} answers {dict(Counter(a.status for a in answers))}, "
          f"{len(made)} accounts, user-service back {back_at - killed_at:.1f} s after the kill")
    outage = (killed_at, back_at + 5)  # the launcher's restart, then the pools' reconnects
    wrong = [a for a in answers if a.status >= 500 and not (
        a.status in {502, 503} and a.started <= outage[1] and a.ended >= outage[0])]
    assert not wrong, wrong[:10]
    unexpected = [a for a in answers if a.status not in {200, 201, 502, 503}]
    assert not unexpected, unexpected[:10]
    assert sum(a.status == 201 for a in answers) == len(made) > 50
    arrive_exactly_once(running, made, timeout=180)  # thousands of entries to catch up on
