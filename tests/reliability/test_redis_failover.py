"""Redis through Sentinel: a master, a replica and three Sentinels on loopback; the master is
killed by PID, the Sentinels promote the replica, and the platform carries on with its
sessions, losing and repeating no event."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
import requests

from tessera_launcher.launch import redis_binary
from tessera_launcher.processes import free_port
from tests.e2e.conftest import eventually, new_user, signed_in
from tests.reliability.platforms import own_platform

pytestmark = pytest.mark.reliability
PASSWORD = "failover-drill-password"
MASTER = "tessera"


@dataclass
class RedisGroup:
    """The Redis processes of the drill, stopped by their PIDs at the end."""

    folder: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def start(self, name: str, config: str, *options: str) -> None:
        port = free_port()
        folder = self.folder / name
        folder.mkdir(parents=True)
        (folder / "redis.conf").write_text(f"port {port}\nbind 127.0.0.1\n{config}")
        log = (folder / "log").open("wb")
        self.processes[name] = subprocess.Popen(
            [redis_binary(), str(folder / "redis.conf"), "--dir", str(folder), *options],
            stdout=log, stderr=subprocess.STDOUT)
        self.ports[name] = port
        client = redis.Redis(port=port, password=None if options else PASSWORD)
        eventually(lambda: _answers(client), timeout=10)

    def client(self, name: str) -> redis.Redis:
        return redis.Redis(port=self.ports[name], password=PASSWORD)

    def master_port(self) -> int:
        sentinel = redis.Redis(port=self.ports["sentinel-1"])
        return int(sentinel.sentinel_get_master_addr_by_name(MASTER)[1])

    def in_sync(self) -> bool:
        """The replica has everything the master has written so far."""
        master = self.client("master").info("replication")
        replicas = [value for key, value in master.items() if key.startswith("slave")]
        return bool(replicas) and all(replica["offset"] == master["master_repl_offset"]
                                      for replica in replicas)

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
                process.wait(10)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_group(tmp_path: Path) -> Iterator[RedisGroup]:
    group = RedisGroup(tmp_path / "redis")
    try:
        auth = f"requirepass {PASSWORD}\nmasterauth {PASSWORD}\nappendonly yes\nsave \"\"\n"
        group.start("master", auth)
        group.start("replica", f"{auth}replicaof 127.0.0.1 {group.ports['master']}\n")
        eventually(group.in_sync, timeout=20)
        for number in (1, 2, 3):
            group.start(f"sentinel-{number}",
                        f"sentinel monitor {MASTER} 127.0.0.1 {group.ports['master']} 2\n"
                        f"sentinel auth-pass {MASTER} {PASSWORD}\n"
                        f"sentinel down-after-milliseconds {MASTER} 1000\n"
                        f"sentinel failover-timeout {MASTER} 10000\n", "--sentinel")
        yield group
    finally:
        group.stop()


def created_entries(running, user_id: str) -> list[str]:
    page = requests.get(f"{running.url}/v0/action-logs",
                        params={"user_id": user_id, "limit": 100}, timeout=10)
    return [entry["action"] for entry in page.json()["data"] if entry["action"] == "user:create"]


def test_after_a_failover_sessions_hold_and_every_event_arrives_once(tmp_path, redis_group):
    sentinels = ",".join(f"127.0.0.1:{redis_group.ports[f'sentinel-{n}']}" for n in (1, 2, 3))
    env = {"REDIS_SENTINELS": sentinels, "REDIS_SENTINEL_MASTER": MASTER,
           "REDIS_URL": f"redis://:{PASSWORD}@/0"}
    with own_platform(tmp_path / "var", env) as running:
        users = [signed_in(running) for _ in range(3)]
        for _, _, user_id in users:
            eventually(lambda user_id=user_id: created_entries(running, user_id) == [
                "user:create"])
        # What Redis acknowledged reaches the replica within moments: the drill kills the
        # master once it has, as a failover after a quiet moment finds it.
        eventually(redis_group.in_sync, timeout=20)
        old_master = redis_group.master_port()

        redis_group.kill("master")
        eventually(lambda: redis_group.master_port() != old_master, timeout=60)
        assert redis_group.master_port() == redis_group.ports["replica"]

        # Sessions made before the failover still sign their users in, through every
        # service that reads them.
        for user, client, _ in users:
            def signed_in_still(user=user, client=client) -> bool:
                answer = client.get(f"{running.url}/v0/user/me", timeout=10)
                return answer.status_code == 200 and answer.json()["handle"] == user["handle"]
            eventually(signed_in_still, timeout=60)
            assert client.get(f"{running.url}/v0/auth/totp/status",
                              timeout=10).status_code == 200
        # New work flows again, and each sign-up, before and after, is in the log once.
        later = [signed_in(running) for _ in range(3)]
        for _, _, user_id in users + later:
            eventually(lambda user_id=user_id: created_entries(running, user_id) == [
                "user:create"], timeout=60)
        assert requests.post(f"{running.url}/v0/users", json=new_user(),
                             timeout=30).status_code == 201
