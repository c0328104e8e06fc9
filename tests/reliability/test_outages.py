"""Outages of what the platform stands on: the mail server gone for a minute, PostgreSQL
stopped and started again. Requests fail cleanly meanwhile, and everything recovers by itself
with nothing lost or sent twice."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tessera_launcher.processes import free_port
from tests.e2e.conftest import eventually, launch, new_user
from tests.mailbox import Mailbox
from tests.reliability.platforms import own_platform

VERIFY = "Verify your email"


def test_mail_queued_while_the_mail_server_is_down_for_a_minute_arrives_once(tmp_path):
    mailbox = Mailbox().start()
    try:
        with own_platform(tmp_path / "var", {"SMTP_URL": mailbox.url}) as running:
            mailbox.stop()
            users = [new_user() for _ in range(3)]
            for user in users:
                assert requests.post(f"{running.url}/v0/users", json=user,
                                     timeout=30).status_code == 201
            assert requests.post(f"{running.url}/v0/auth/forgot-password", timeout=30,
                                 json={"email": users[0]["email"]}).status_code == 204
            time.sleep(60)
            assert "mail delivery failed; will retry" in (running.var_dir / "log" / "auth.log"
                                                          ).read_text()
            mailbox.start()
            for user in users:
                mailbox.wait_for(user["email"], VERIFY, timeout=90)
            eventually(lambda: any(m["To"] == users[0]["email"] and "password" in m["Subject"]
                                   for m in mailbox.messages()), timeout=30)
            time.sleep(6)  # past the next retry: a mail sent already must not go again
            for user in users:
                assert len(mailbox.received(user["email"], VERIFY)) == 1
            assert len([m for m in mailbox.messages() if m["To"] == users[0]["email"]]) == 2
    finally:
        mailbox.stop()


def postgres_binaries() -> Path | None:
    """The folder of a PostgreSQL server's programs (initdb, postgres, pg_isready), if any."""
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    found = versions[-1] if versions else shutil.which("postgres")
    return Path(found).parent if found else None


class OwnPostgres:
    """A PostgreSQL server of the drill's own, stopped and started by its postmaster's PID
    (as root it runs as the `postgres` user: the server refuses to run as root)."""

    def __init__(self, binaries: Path) -> None:
        self.binaries, self.port = binaries, free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="tessera-pg-"))
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self.as_owner = ["setpriv", "--reuid=postgres", "--regid=postgres",
                             "--init-groups", "--"]
        subprocess.run([*self.as_owner, str(binaries / "initdb"), "-D", str(self.folder / "data"),
                        "-A", "trust", "-U", "postgres", "--no-sync"],
                       check=True, capture_output=True)
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/tessera_drill"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [*self.as_owner, str(self.binaries / "postgres"), "-D", str(self.folder / "data"),
             "-p", str(self.port), "-k", str(self.folder), "-c", "listen_addresses=127.0.0.1",
             "-c", "fsync=off"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while subprocess.run([str(self.binaries / "pg_isready"), "-q", "-h", "127.0.0.1",
                              "-p", str(self.port)], check=False).returncode != 0:
            assert self.process.poll() is None, "PostgreSQL did not start"
            assert time.monotonic() < deadline, "PostgreSQL did not come up"
            time.sleep(0.1)

    def stop(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)  # a fast shutdown: clients are cut off
        self.process.wait(30)

    def remove(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("needs PostgreSQL's server binaries (Debian's postgresql package)")
    server = OwnPostgres(binaries)
    server.start()
    yield server
    server.remove()


def test_with_postgresql_stopped_requests_fail_cleanly_and_recover_by_themselves(
        tmp_path, own_postgres):
    running = launch(tmp_path / "var", {"DATABASE_URL": own_postgres.url, "REDIS_URL": ""})
    try:
        user = new_user()
        assert requests.post(f"{running.url}/v0/users", json=user, timeout=30).status_code == 201
        profile = f"{running.url}/v0/users/profile?handle={user['handle']}"
        assert requests.get(profile, timeout=30).status_code == 200

        own_postgres.stop()
        down = requests.get(profile, timeout=30)
        assert (down.status_code, down.json()["code"]) == (503, "system:service_unavailable")
        assert down.json()["details"] == "The database is not answering; try again shortly."
        lost = new_user()
        refused = requests.post(f"{running.url}/v0/users", json=lost, timeout=30)
        assert (refused.status_code, refused.json()["code"]) == (
            503, "system:service_unavailable")

        own_postgres.start()
        eventually(lambda: requests.get(profile, timeout=30).status_code == 200, timeout=30)
        # The sign-up refused meanwhile left nothing behind: its handle and address are free.
        assert requests.post(f"{running.url}/v0/users", json=lost,
                             timeout=30).status_code == 201
    finally:
        running.stop()
