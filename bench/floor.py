"""The per-request floor: CPU per trivial request in user-service against a bare Flask app
(`bench/bare.py`: the same SQLite lookup and jsonify, nothing else), both served the same way,
under each serving model a service could use, in one run.

    ./tessera bench floor                 # three runs per figure
    ./tessera bench floor --quick         # one run per figure
    ./tessera bench floor --seconds 3     # shorter loads

The request is `GET /v0/users/handle/{h}/available`, straight to the service (no gateway).
The platform runs on the launcher's defaults; the bare app and the extra user-service
instances read its user database. Every server is stopped by PID at the end.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Flask
from werkzeug.test import EnvironBuilder

import bench.bare
import user_service
from bench.run import (
    cpu_seconds,
    load,
    parser_for,
    post,
    process_tree,
    progress,
    running_platform,
    save,
)
from tessera_launcher.launch import ServiceSpec, running_env, service_specs
from tessera_shared.config import Settings

HANDLE = "benchuser"
PATH = f"/v0/users/handle/{HANDLE}/available"
CONNECTIONS = 8


@dataclass(frozen=True)
class Server:
    """A serving model: how a WSGI app (`module:attribute`, or a factory call) is served."""

    name: str
    argv: tuple[str, ...]  # with {app} and {port} to fill in
    processes: int  # its process tree once every worker is up
    factory_flag: str = ""  # how it is told that the app is a factory, if not by "()"

    def command(self, app: str, port: int) -> list[str]:
        argv = list(self.argv)
        if self.factory_flag and app.endswith("()"):
            app = app.removesuffix("()")
            argv.insert(argv.index("{app}"), self.factory_flag)
        return [part.format(app=app, port=port) for part in argv]


def gunicorn(spec: ServiceSpec) -> Server:
    """gunicorn as the launcher runs a service with `spec`'s worker class and counts."""
    argv = spec.argv("127.0.0.1:{port}")
    return Server(f"gunicorn {spec.worker_class} {spec.workers}x{spec.threads}",
                  (*argv[:-1], "{app}"), processes=spec.workers + 1)


def servers() -> list[Server]:
    """The launcher's own setting for user-service first, then the candidates."""
    [launched] = [spec for spec in service_specs({}) if spec.name == "user"]
    cores = os.cpu_count() or 1
    candidates = [gunicorn(launched),
                  gunicorn(ServiceSpec("user", "", "gthread", workers=cores, threads=2)),
                  gunicorn(ServiceSpec("user", "", "sync", workers=cores))]
    # Under granian a service answers requests but runs no background work (its outbox
    # relay and event consumer start from a gunicorn hook): a floor to aim at, not yet a
    # way to run Tessera.
    if importlib.util.find_spec("granian"):
        candidates.append(Server(f"granian wsgi {cores}x1", (
            sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", str(cores),
            "--blocking-threads", "1", "--host", "127.0.0.1", "--port", "{port}",
            "--log-level", "warning", "--no-ws", "{app}"), processes=cores + 1,
            factory_flag="--factory"))
    return candidates


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server for {url} exited ({process.returncode})")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as answer:
            if answer.status == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


@contextlib.contextmanager
def serving(server: Server, app: str, env: dict[str, str]) -> Iterator[tuple[str, list[int]]]:
    """`app` served by `server`: its URL and the PIDs of its process tree. Stopped by PID."""
    port = free_port()
    with tempfile.TemporaryDirectory() as metrics:
        process = subprocess.Popen(server.command(app, port),
                                   env={**env, "PROMETHEUS_MULTIPROC_DIR": metrics},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tree = [process.pid]
        try:
            url = f"http://127.0.0.1:{port}{PATH}"
            wait_for(url, process)
            tree = every_worker(process.pid, server.processes)
            yield url, tree
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                for pid in tree:  # the workers too, not only the one it started
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                process.wait()


def every_worker(pid: int, processes: int, seconds: float = 30) -> list[int]:
    """The server's process tree once all its workers are up (a late one would be missed)."""
    deadline = time.monotonic() + seconds
    while len(tree := process_tree(pid)) < processes:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(tree)} of {processes} processes started")
        time.sleep(0.1)
    return tree


def cpu_per_request(url: str, pids: list[int], seconds: int, runs: int) -> float:
    """Median CPU microseconds the server's processes spend per request at 8 connections;
    a run with a refused answer, a socket error or a restarted worker is no figure."""
    load(url, CONNECTIONS, 1)  # warm: connections, caches, the pool
    figures = []
    for _ in range(runs):
        before = cpu_seconds(pids)
        done = load(url, CONNECTIONS, seconds)
        spent = cpu_seconds(pids) - before
        if done.failures or sorted(process_tree(pids[0])) != sorted(pids):
            raise SystemExit(f"{url}: {done.failures} failed answers, or a worker restarted")
        figures.append(spent / done.requests * 1e6)
    return statistics.median(figures)


def in_process_us(app: Flask, requests: int = 5000) -> float:
    """CPU microseconds per request through `app.wsgi_app` alone, no server: what the app
    itself costs. Its logs go nowhere meanwhile (they are still written)."""
    environ = EnvironBuilder(path=f"/v0/users/handle/{HANDLE}/available").get_environ()
    streams = [handler for handler in logging.getLogger().handlers
               if isinstance(handler, logging.StreamHandler)]
    with open(os.devnull, "w") as nowhere:
        kept = [handler.setStream(nowhere) for handler in streams]
        try:
            for _ in range(300):  # warm
                b"".join(app.wsgi_app(dict(environ), lambda *_: None))
            started = time.process_time()
            for _ in range(requests):
                b"".join(app.wsgi_app(dict(environ), lambda *_: None))
            return (time.process_time() - started) / requests * 1e6
        finally:
            for handler, stream in zip(streams, kept, strict=True):
                handler.setStream(stream)


def main() -> None:
    parser = parser_for("floor", __doc__)
    parser.add_argument("--quick", action="store_true", help="one run per figure, not three")
    parser.add_argument("--seconds", type=int, default=5,
                        help="length of each load (default 5)")
    args = parser.parse_args()
    runs = 1 if args.quick else 3

    print("Per-request floor — starting the platform with the launcher's defaults", flush=True)
    results: dict = {"connections": CONNECTIONS, "path": PATH, "servers": {}}
    with running_platform("floor") as (public, var_dir, _launcher):
        post(f"{public}/v0/users", {"email": "bench@example.com", "handle": HANDLE,
                                    "display_name": "Bench",
                                    "password": "correct horse battery staple"})
        env = running_env(var_dir, dict(os.environ))
        bare_env = {**env, "BARE_DATABASE": str(var_dir / "user.sqlite3")}
        progress("in process, no server: the bare Flask app and user-service")
        os.environ["BARE_DATABASE"] = bare_env["BARE_DATABASE"]
        bare = in_process_us(bench.bare.app)
        ours = in_process_us(user_service.create_app(Settings.from_env("user", env)))
        results["servers"]["in process, no server"] = {
            "bare_us": round(bare), "user_service_us": round(ours),
            "ratio": round(ours / bare, 2)}
        for server in servers():
            progress(f"{server.name}: the bare Flask app")
            with serving(server, "bench.bare:app", bare_env) as (url, pids):
                bare = cpu_per_request(url, pids, args.seconds, runs)
            progress(f"{server.name}: user-service")
            with serving(server, "user_service:create_app()", env) as (url, pids):
                ours = cpu_per_request(url, pids, args.seconds, runs)
            results["servers"][server.name] = {
                "bare_us": round(bare), "user_service_us": round(ours),
                "ratio": round(ours / bare, 2)}
            progress(f"{server.name}: bare {bare:.0f} µs, user-service {ours:.0f} µs, "
                     f"{ours / bare:.2f}x")
    figures = results["servers"]
    best_bare = min(figure["bare_us"] for name, figure in figures.items()
                    if name != "in process, no server")
    print(f"\n{'server':<26}{'bare µs':>10}{'ours µs':>10}{'ours/bare':>11}{'ours/best':>11}")
    for name, figure in figures.items():
        print(f"{name:<26}{figure['bare_us']:>10}{figure['user_service_us']:>10}"
              f"{figure['ratio']:>10.2f}x{figure['user_service_us'] / best_bare:>10.2f}x")
    print(f"\nSaved to {save('floor', results)}; copy the figures to bench/RESULTS.md.")


if __name__ == "__main__":
    main()
