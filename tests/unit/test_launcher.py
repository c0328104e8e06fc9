"""The launcher's own logic: `./tessera test` brings the browser and Podman that parts of the
suite need (an apt-get that only records what it was asked stands in for Debian's), bench's
help, the gunicorn hooks, and the secrets it keeps in var/."""

from __future__ import annotations

import gc
import http.server
import os
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bench.run import NOT_CASES
from tessera_launcher import cli, launch
from tessera_launcher.launch import load_secrets, stored_secrets, without_password
from tessera_launcher.processes import free_port
from tessera_shared import gunicorn_conf, migrations
from tessera_shared.config import Settings

# Records its arguments; `install` leaves a command named after each package beside it, as
# the real one would for these, except a package it refuses (the whole install then fails).
# PATH holds nothing else, so the commands it uses are named by their full paths.
FAKE_APT_GET = """#!/bin/sh
echo "$@" >> "{log}"
if [ "$1" = install ]; then
  shift 4  # -y -qq --no-install-recommends
  for package in "$@"; do [ "$package" = "{refused}" ] && exit 100; done
  for package in "$@"; do
    echo '#!/bin/sh' > "{bin}/$package" && /bin/chmod +x "{bin}/$package"
  done
fi
"""
BROWSER = "install -y -qq --no-install-recommends chromium"
CONTAINERS = ("install -y -qq --no-install-recommends podman runc debootstrap netavark "
              "aardvark-dns iptables")
EVERY_COMMAND = ("chromium", "podman", "runc", "debootstrap")


@pytest.fixture
def bin_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def fake_apt_get(bin_dir: Path, refused: str = "") -> Path:
    log = bin_dir.parent / "apt-get.log"
    script = bin_dir / "apt-get"
    script.write_text(FAKE_APT_GET.format(log=log, bin=bin_dir, refused=refused))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return log


def present(bin_dir: Path, *commands: str) -> None:
    for command in commands:
        (bin_dir / command).write_text("#!/bin/sh\n")
        (bin_dir / command).chmod(0o755)


def test_what_the_suite_needs_is_installed_as_root_one_part_at_a_time(bin_dir, monkeypatch,
                                                                      capsys):
    log = fake_apt_get(bin_dir)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    cli.ensure_test_packages()
    assert log.read_text().splitlines() == ["update -qq", BROWSER, CONTAINERS]
    assert all((bin_dir / command).exists() for command in EVERY_COMMAND)
    said = capsys.readouterr().out
    assert "for the browser tests and the container test" in said
    assert "could not be installed" not in said


def test_only_the_part_that_is_missing_is_installed(bin_dir, monkeypatch):
    log = fake_apt_get(bin_dir)
    present(bin_dir, "podman", "runc", "debootstrap")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    cli.ensure_test_packages()
    assert log.read_text().splitlines() == ["update -qq", BROWSER]


def test_a_part_that_cannot_be_installed_says_it_will_be_skipped(bin_dir, monkeypatch, capsys):
    log = fake_apt_get(bin_dir, refused="podman")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    cli.ensure_test_packages()
    assert log.read_text().splitlines() == ["update -qq", BROWSER, CONTAINERS]
    assert (bin_dir / "chromium").exists()  # the other part is installed all the same
    said = capsys.readouterr().out
    assert "podman runc debootstrap could not be installed" in said
    assert "the container test will be skipped" in said
    assert "the browser tests will be skipped" not in said


def test_what_is_present_is_left_alone(bin_dir, monkeypatch):
    log = fake_apt_get(bin_dir)
    present(bin_dir, *EVERY_COMMAND)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    cli.ensure_test_packages()
    assert not log.exists()


def test_without_root_it_says_how_instead(bin_dir, monkeypatch, capsys):
    log = fake_apt_get(bin_dir)
    present(bin_dir, "runc")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    cli.ensure_test_packages()
    assert not log.exists()
    said = capsys.readouterr().out
    assert "apt-get install chromium`" in said
    assert "podman debootstrap missing, so the container test will be skipped" in said


CASES = sorted(path.stem for path in (Path(__file__).parents[2] / "bench").glob("*.py")
               if path.stem not in NOT_CASES)


def test_bench_help_lists_every_case(capfd):
    assert cli.main(["bench", "--help"]) == 0
    shown = capfd.readouterr().out
    assert "usage: tessera bench" in shown
    for case in CASES:
        assert f"\n  {case} " in shown


@pytest.mark.parametrize("case", CASES)
def test_every_bench_case_explains_its_options(case, capfd):
    assert cli.main(["bench", case, "--help"]) == 0
    shown = capfd.readouterr().out
    assert f"usage: tessera bench {case}" in shown
    assert "./tessera bench" in shown  # its docstring, with the commands to run


def test_a_gunicorn_master_freezes_its_objects_before_each_fork():
    # What keeps the master's pages shared with its workers (gc.freeze, before fork).
    gc.unfreeze()
    try:
        gunicorn_conf.pre_fork(server=None, worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_printed_redis_url_hides_its_password():
    assert without_password("redis://:s3cret@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert without_password("redis://bob:s3cret@db:6379") == "redis://bob:***@db:6379"
    assert without_password("redis://127.0.0.1:6379/9") == "redis://127.0.0.1:6379/9"


def test_secrets_are_made_once_kept_private_and_the_environment_wins(tmp_path):
    first = stored_secrets(tmp_path)
    assert set(first) == {"INTERNAL_SECRET", "SECRET_KEY", "REDIS_PASSWORD"}
    assert stored_secrets(tmp_path) == first
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600
    loaded = load_secrets(tmp_path, {"SECRET_KEY": "from-env"})
    assert loaded == {"INTERNAL_SECRET": first["INTERNAL_SECRET"], "SECRET_KEY": "from-env"}


class Ready(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # the name http.server calls
        self.send_response(self.status if self.path == "/health/ready" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("status", "code"), [(200, 0), (503, 1)])
def test_the_health_command_passes_only_for_a_ready_process(status, code):
    handler = type("Answering", (Ready,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert cli.main(["healthcheck", "--port", str(server.server_address[1])]) == code
    finally:
        server.shutdown()
        server.server_close()


def test_the_health_command_fails_where_nothing_listens():
    assert cli.main(["healthcheck", "--port", str(free_port())]) == 1


AUTH = Settings.from_env("auth", {"REDIS_URL": "redis://127.0.0.1:9/0",
                                  "INTERNAL_SECRET": "i" * 40, "SECRET_KEY": "s" * 40})


def refused() -> OperationalError:
    return OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


def test_serving_waits_for_a_database_that_is_not_up_yet(monkeypatch, capsys):
    monkeypatch.setattr(launch.time, "sleep", lambda _seconds: None)
    attempts = iter([refused(), refused(), None])

    def upgrade(_settings: object) -> None:
        if error := next(attempts):
            raise error

    monkeypatch.setattr(migrations, "upgrade", upgrade)
    launch.migrate_when_reachable(AUTH)
    said = capsys.readouterr().out
    assert said.count("waiting for the auth database: connection refused") == 2


def test_serving_gives_up_on_a_database_that_never_answers_and_says_what_to_check(monkeypatch):
    monkeypatch.setattr(launch, "DATABASE_PATIENCE", 0.0)

    def upgrade(_settings: object) -> None:
        raise refused()

    monkeypatch.setattr(migrations, "upgrade", upgrade)
    with pytest.raises(SystemExit, match=r"the auth database .* check DATABASE_URL"):
        launch.migrate_when_reachable(AUTH)
