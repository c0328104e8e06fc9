"""A whole platform started in the background by another program (the end-to-end suite, the
benchmarks): `tessera up` as a child process, waited for until its gateway is healthy, and
stopped by its PID, as Ctrl-C would stop it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tessera_launcher.processes import LaunchError, free_port

STARTUP_SECONDS = 120


@dataclass
class DetachedPlatform:
    url: str
    var_dir: Path
    process: subprocess.Popen[bytes]
    log: Path | None  # the launcher's own output, if kept

    @property
    def facts(self) -> dict:
        """What the launcher recorded: addresses, PIDs (`var/run/platform.json`)."""
        return json.loads((self.var_dir / "run" / "platform.json").read_text())

    def stop(self) -> dict[str, int]:
        """SIGTERM the launcher, which stops what it started; returns the PIDs it had."""
        pids = self.facts["pids"]
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        return pids


def start(var_dir: Path, env: Mapping[str, str], *, log: Path | None = None,
          replicas: int = 1) -> DetachedPlatform:
    """Run the launcher on a free port with `env` (the whole environment it gets) and
    `replicas` instances of everything, and wait until the platform answers healthy; a
    launcher that exits or stalls is a LaunchError (with its log), after it was stopped."""
    port = free_port()
    output = log.open("wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "tessera_launcher", "up", "--replicas", str(replicas)],
        env={**env, "PORT": str(port), "TESSERA_VAR_DIR": str(var_dir)},
        stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    running = DetachedPlatform(f"http://127.0.0.1:{port}", var_dir, process, log)
    try:
        _wait_healthy(running)
    except BaseException:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        raise
    return running


def _wait_healthy(running: DetachedPlatform) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if running.process.poll() is not None:
            raise LaunchError(f"the launcher exited ({running.process.returncode})"
                              f"{_log_of(running)}")
        try:
            with urllib.request.urlopen(f"{running.url}/health-check", timeout=2) as answer:  # noqa: S310  # our own http URL
                if answer.status == 204:
                    return
        except (urllib.error.URLError, OSError):
            pass  # not listening yet, or listening and still starting (its early socket)
        if time.monotonic() > deadline:
            raise LaunchError(f"the platform did not become healthy{_log_of(running)}")
        time.sleep(0.2)


def _log_of(running: DetachedPlatform) -> str:
    return f":\n{running.log.read_text()}" if running.log else "; run `./tessera up` to see why"
