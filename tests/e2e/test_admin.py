"""`./tessera admin`: admins read the whole action log, in full."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.e2e.conftest import signed_in, tessera


def logins_of(platform, reader, user_id):
    page = reader.get(f"{platform.url}/v0/action-logs",
                      params={"limit": 100, "user_id": user_id}).json()
    return [e for e in page["data"] if e["action"] == "auth:login"]


def test_a_granted_admin_reads_everyones_security_entries_until_revoked(platform):
    _, _, victim_id = signed_in(platform)
    admin, reader, _ = signed_in(platform)
    deadline = time.monotonic() + 15
    assert logins_of(platform, reader, victim_id) == []  # an ordinary user sees none
    granted = tessera(platform, "admin", "grant", admin["email"])
    assert granted.returncode == 0, granted.stdout + granted.stderr
    assert "is now an admin" in granted.stdout
    assert admin["email"] in tessera(platform, "admin", "list").stdout
    while not (entries := logins_of(platform, reader, victim_id)):  # same session, new role
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert entries[0]["actor_ip"].endswith("/32")
    assert tessera(platform, "admin", "revoke", admin["email"]).returncode == 0
    assert logins_of(platform, reader, victim_id) == []


def test_the_command_explains_mistakes(platform, tmp_path):
    unknown = tessera(platform, "admin", "grant", "nobody@example.com")
    assert unknown.returncode == 1
    assert "No account" in unknown.stdout
    assert tessera(platform, "admin", "promote").returncode == 2
    not_running = subprocess.run(
        [sys.executable, "-m", "tessera_launcher", "admin", "list"],
        env={**os.environ, "TESSERA_VAR_DIR": str(tmp_path)}, capture_output=True, text=True,
        check=False)
    assert not_running.returncode == 1
    assert "./tessera up" in not_running.stdout
