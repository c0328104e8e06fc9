"""The launcher as a supervisor: a crashed process is started again (with a backoff, saying
why), the gateway refuses calls to it at once meanwhile, nothing it held is lost, and one
that keeps crashing stops the whole platform cleanly."""

from __future__ import annotations

import os
import signal

import requests

from tests.e2e.conftest import RunningPlatform, eventually, launch, new_user
from tests.e2e.test_launcher import alive


def kill(running: RunningPlatform, name: str) -> int:
    """SIGKILL `name`'s process and all it started (a gunicorn master and its workers)."""
    pid = running.facts["pids"][name]
    os.killpg(pid, signal.SIGKILL)
    return pid


def started_again(running: RunningPlatform, name: str, old_pid: int) -> int:
    """The PID `name` runs under once the launcher has started it again."""
    eventually(lambda: running.facts["pids"].get(name, old_pid) != old_pid, timeout=60)
    return running.facts["pids"][name]


def test_a_killed_service_is_refused_at_once_then_back_with_everything_it_held(
        tmp_path, own_database_server):
    running = launch(tmp_path / "var", {"DATABASE_URL": own_database_server or "",
                                        "REDIS_URL": ""})  # nothing shared with the suite's
    try:
        user = new_user()
        assert requests.post(f"{running.url}/v0/users", json=user, timeout=30).status_code == 201
        profile = f"{running.url}/v0/users/profile?handle={user['handle']}"
        assert requests.get(profile, timeout=30).status_code == 200

        killed = kill(running, "user")
        # Refused (503), or cut off while the process was still going down (502): never a
        # wait for a service that is not there.
        down = requests.get(profile, timeout=30)
        assert (down.status_code, down.json()["code"]) in {
            (503, "system:service_unavailable"), (502, "system:bad_gateway")}

        started_again(running, "user", killed)
        back = requests.get(profile, timeout=30)
        assert back.status_code == 200
        assert back.json()["handle"] == user["handle"]
        said = running.log.read_text()
        assert "user was killed by SIGKILL; starting it again in 0.5 s" in said
        assert "restarted  user" in said
        # The platform as a whole carries on: a new sign-up goes through every service.
        assert requests.post(f"{running.url}/v0/users", json=new_user(),
                             timeout=30).status_code == 201
    finally:
        pids = running.stop()
    assert running.process.returncode == 0
    assert not [name for name, pid in pids.items() if alive(pid)]


def test_a_killed_gateway_and_redis_come_back_and_sessions_survive(tmp_path):
    # The launcher's own Redis (REDIS_URL empty): its data is kept on disk across a restart.
    running = launch(tmp_path / "var", {"REDIS_URL": "", "DATABASE_URL": ""})
    try:
        user = new_user()
        assert requests.post(f"{running.url}/v0/users", json=user, timeout=30).status_code == 201
        client = requests.Session()
        client.post(f"{running.url}/v0/auth/login",
                    json={"email": user["email"], "password": user["password"]}, timeout=30)
        for name in ("redis", "gateway"):
            started_again(running, name, kill(running, name))
        eventually(lambda: requests.get(f"{running.url}/health/ready",
                                        timeout=30).status_code == 200, timeout=60)
        me = client.get(f"{running.url}/v0/user/me", timeout=30)
        assert me.status_code == 200
        assert me.json()["handle"] == user["handle"]
    finally:
        running.stop()


def test_a_service_that_keeps_crashing_stops_everything_cleanly(tmp_path, own_database_server):
    running = launch(tmp_path / "var", {"DATABASE_URL": own_database_server or "",
                                        "REDIS_URL": ""})  # nothing shared with the suite's
    pids = dict(running.facts["pids"])
    killed = kill(running, "registry")
    for _ in range(4):  # the second to the fifth crash, each after its restart
        killed = started_again(running, "registry", killed)
        os.killpg(killed, signal.SIGKILL)
    running.process.wait(60)
    assert running.process.returncode == 1
    said = running.log.read_text()
    assert "registry was killed by SIGKILL: 5 crashes within 60 s" in said
    assert "Stopped." in said
    assert not [name for name, pid in pids.items() if alive(pid)]
