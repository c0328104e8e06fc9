"""Child processes: started in their own session (so a terminal's Ctrl-C reaches only the
launcher, which stops them in order), logged to files, and stopped by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `timeout`; gunicorn stops its workers on SIGTERM. What
        is left of its process group goes too: a gunicorn master that was killed leaves
        workers serving until they notice."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def spawn(name: str, argv: list[str], env: dict[str, str], log_dir: Path, *,
          pass_fds: tuple[int, ...] = ()) -> Child:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   pass_fds=pass_fds)
    return Child(name, process, log_path)


def wait_until(child: Child, ready: Callable[[], bool], *, what: str, timeout: float = 60.0,
               stopping: threading.Event | None = None) -> None:
    """Poll `ready()` until it holds. If `child` dies or stalls first, or `stopping` is set,
    `child` is stopped (on Ctrl-C too) and a LaunchError with its log says so."""
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if not child.alive():
                raise LaunchError(f"{child.name} {exit_reason(child.process.returncode)} while "
                                  f"starting. Its log ({child.log_path}) ends with:\n"
                                  f"{child.log_tail()}")
            if stopping is not None and stopping.is_set():
                raise LaunchError(f"{child.name} was still starting when asked to stop.")
            if time.monotonic() > deadline:
                raise LaunchError(f"{child.name} did not become ready ({what}) within "
                                  f"{timeout:.0f} s. Its log ({child.log_path}) ends with:\n"
                                  f"{child.log_tail()}")
            time.sleep(0.1)
    except BaseException:
        child.stop()
        raise


def answer_status(url: str) -> int | None:
    """The HTTP status `url` answers with, or None if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  # our http URL
            return response.status
    except urllib.error.HTTPError as answer:
        return answer.code
    except (urllib.error.URLError, OSError):
        return None


def wait_until_ready(child: Child, url: str, *, timeout: float = 60.0,
                     expect: Collection[int] = (200,),
                     stopping: threading.Event | None = None) -> None:
    """`wait_until` `url` answers one of `expect`."""
    wait_until(child, lambda: answer_status(url) in expect, what=f"answering at {url}",
               timeout=timeout, stopping=stopping)


def exit_reason(code: int | None) -> str:
    """How a process ended, in words: `was killed by SIGKILL`, `exited with code 3`."""
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


class LaunchError(RuntimeError):
    """Starting the platform failed; the message says what to do next."""
