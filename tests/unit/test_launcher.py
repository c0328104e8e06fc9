"""`./tessera test` brings the browser the browser tests need (an apt-get that only records
what it was asked stands in for Debian's)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tessera_launcher import cli

# Records its arguments; `install` leaves a `chromium` beside it, as the real one would.
FAKE_APT_GET = """#!/bin/sh
echo "$@" >> "{log}"
case "$1" in install) printf '#!/bin/sh\\n' > "{bin}/chromium"; chmod +x "{bin}/chromium";; esac
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
    assert "Installing Chromium" in capsys.readouterr().out


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
