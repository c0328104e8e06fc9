"""Nothing is lost: with events-service stopped for a while, or Redis restarted, every event
written meanwhile reaches the action log once things recover, exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from tessera_launcher.launch import redis_binary
from tessera_launcher.processes import free_port
from tests.conftest import drop_databases, unique_database_server
from tests.e2e.conftest import RunningPlatform, launch, new_user


class OwnRedis:
    """A Redis the test can stop and start again on the same port and data."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.folder), "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "Redis did not come back"
                time.sleep(0.05)

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def platform_on_own_redis(tmp_path_factory: pytest.TempPathFactory,
                          own_redis: OwnRedis) -> Iterator[RunningPlatform]:
    server = unique_database_server()  # platforms must never share an outbox
    env = {"REDIS_URL": own_redis.url, "DATABASE_URL": server or ""}
    running = launch(tmp_path_factory.mktemp("durable") / "var", env)
    yield running
    running.stop()
    if server:
        drop_databases(server)


def sign_up_many(platform: RunningPlatform, count: int) -> list[str]:
    handles = []
    for _ in range(count):
        user = new_user()
        assert requests.post(f"{platform.url}/v0/users", json=user).status_code == 201
        handles.append(user["handle"])
    return handles


def created_handles(platform: RunningPlatform) -> list[str]:
    entries, cursor = [], None
    while True:
        params = {"limit": 100, **({"cursor_id": cursor} if cursor else {})}
        page = requests.get(f"{platform.url}/v0/action-logs", params=params).json()
        entries += page["data"]
        if not page["has_older"]:
            break
        cursor = page["data"][-1]["id"]
    return [e["metadata"]["handle"] for e in entries if e["action"] == "user:create"]


def arrive_exactly_once(platform: RunningPlatform, handles: list[str], *,
                        timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        logged = created_handles(platform)
        if set(handles) <= set(logged):
            break
        assert time.monotonic() < deadline, f"missing: {set(handles) - set(logged)}"
        time.sleep(0.2)
    assert all(logged.count(handle) == 1 for handle in handles)


def test_events_written_while_events_service_is_stopped_arrive_once_it_resumes(
        platform_on_own_redis):
    platform = platform_on_own_redis
    master = platform.facts["pids"]["events"]
    group = [master, *map(int, Path(f"/proc/{master}/task/{master}/children").read_text().split())]
    for pid in group:
        os.kill(pid, signal.SIGSTOP)
    try:
        handles = sign_up_many(platform, 5)  # the rest of the platform works on
    finally:
        for pid in group:
            os.kill(pid, signal.SIGCONT)
    arrive_exactly_once(platform, handles)


def test_events_survive_a_redis_restart(platform_on_own_redis, own_redis):
    platform = platform_on_own_redis
    before = sign_up_many(platform, 3)
    own_redis.stop()  # whatever was not relayed yet waits in the outboxes
    own_redis.start()
    deadline = time.monotonic() + 30
    while requests.post(f"{platform.url}/v0/users", json=new_user()).status_code != 201:
        assert time.monotonic() < deadline, "the platform did not recover from the restart"
        time.sleep(0.5)
    after = sign_up_many(platform, 3)
    arrive_exactly_once(platform, before + after)
