"""The launcher's own logic: `./tessera test` brings the browser the browser tests need (an
apt-get that only records what it was asked stands in for Debian's), bench's help, the
gunicorn hooks, and the secrets it keeps in var/."""

from __future__ import annotations

import gc
import os
import stat
from pathlib import Path

import pytest

from bench.run import NOT_CASES
from tessera_launcher import cli
from tessera_launcher.launch import load_secrets, stored_secrets, without_password
from tessera_shared import gunicorn_conf

# Records its arguments; `install` leaves a `chromium` beside it, as the real one would, or
# fails when the folder has a `broken` file. PATH holds nothing else, so the commands it uses
# are named by their full paths.
FAKE_APT_GET = """#!/bin/sh
echo "$@" >> "{log}"
[ -e "{bin}/broken" ] && exit 100
case "$1" in
  install) echo '#!/bin/sh' > "{bin}/chromium" && /bin/chmod +x "{bin}/chromium";;
esac
"""


@pytest.fixture
def bin_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def fake_apt_get(bin_dir: Path) -> Path:
    log = bin_dir.parent / "apt-get.log"
    script = bin_dir / "apt-get"
    script.write_text(FAKE_APT_GET.format(log=log, bin=bin_dir))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return log


def test_a_missing_chromium_is_installed_as_root(bin_dir, monkeypatch, capsys):
    log = fake_apt_get(bin_dir)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    cli.ensure_chromium()
    assert log.read_text().splitlines() == [
        "update -qq", "install -y -qq --no-install-recommends chromium"]
    assert (bin_dir / "chromium").exists()
    said = capsys.readouterr().out
    assert "Installing Chromium" in said
    assert "could not be installed" not in said


def test_a_failed_install_says_the_browser_tests_will_be_skipped(bin_dir, monkeypatch, capsys):
    log = fake_apt_get(bin_dir)
    (bin_dir / "broken").touch()
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    cli.ensure_chromium()
    assert log.read_text().splitlines() == ["update -qq"]  # it stops at the first failure
    assert "could not be installed" in capsys.readouterr().out


def test_a_present_chromium_is_left_alone(bin_dir, monkeypatch):
    log = fake_apt_get(bin_dir)
    (bin_dir / "chromium").write_text("#!/bin/sh\n")
    (bin_dir / "chromium").chmod(0o755)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    cli.ensure_chromium()
    assert not log.exists()


def test_without_root_it_says_how_instead(bin_dir, monkeypatch, capsys):
    log = fake_apt_get(bin_dir)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    cli.ensure_chromium()
    assert not log.exists()
    assert "apt-get install chromium" in capsys.readouterr().out


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
