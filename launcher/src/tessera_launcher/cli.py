"""`./tessera <command>`: the launcher's commands."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tessera_launcher.launch import admin, healthcheck, migrate, serve, up
from tessera_shared.config import SERVICES


def checkout() -> Path:
    """The checkout that `test`, `bench` and `lint` work on: the current folder, where
    `./tessera` runs them from (an installed launcher has no tests of its own)."""
    here = Path.cwd()
    if not (here / "tests").is_dir() or not (here / "pyproject.toml").is_file():
        raise SystemExit("tessera: run this from a Tessera checkout (the folder with "
                         "`./tessera` and `tests/`).")
    return here


# What parts of the suite need from Debian's packages: the commands that must be there, and
# the packages that bring them. Podman's networks need netavark, aardvark-dns and iptables,
# which it only recommends.
TEST_PACKAGES = {
    "the browser tests": (("chromium",), ("chromium",)),
    "the container test": (("podman", "runc", "debootstrap"),
                           ("podman", "runc", "debootstrap", "netavark", "aardvark-dns",
                            "iptables")),
}


def lacking(commands: tuple[str, ...]) -> list[str]:
    return [command for command in commands if shutil.which(command) is None]


def ensure_test_packages() -> None:
    """The browser tests drive Debian's Chromium (Playwright never downloads a browser) and
    the container test Podman: install what is missing when this machine can, else say how
    (the tests that need it skip). Each part is installed on its own, so one that cannot be
    installed here leaves the other be."""
    missing = {part: needs for part, needs in TEST_PACKAGES.items() if lacking(needs[0])}
    if not missing:
        return
    apt_get = shutil.which("apt-get")
    if apt_get is None or os.geteuid() != 0:
        for part, (commands, packages) in missing.items():
            print(f"{' '.join(lacking(commands))} missing, so {part} will be "
                  f"skipped; install them (`apt-get install {' '.join(packages)}` as root on "
                  "Debian) to run them.", flush=True)
        return
    quiet = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"Installing {' / '.join(' '.join(p) for _, p in missing.values())} for "
          f"{' and '.join(missing)} (apt-get, about a minute) ...", flush=True)
    if subprocess.run([apt_get, "update", "-qq"], stdout=subprocess.DEVNULL, env=quiet,
                      check=False).returncode == 0:
        for _, packages in missing.values():
            subprocess.run([apt_get, "install", "-y", "-qq", "--no-install-recommends",
                            *packages], stdout=subprocess.DEVNULL, env=quiet, check=False)
    for part, (commands, _) in missing.items():
        if still := lacking(commands):
            print(f"{' '.join(still)} could not be installed (apt-get's words are above); "
                  f"{part} will be skipped.", flush=True)


def run_tests(pytest_args: list[str]) -> int:
    """Lint, then the whole suite (unit, integration, end-to-end)."""
    root = checkout()
    ensure_test_packages()
    print("ruff: checking the code ...", flush=True)
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", str(root)],
                          check=False).returncode
    tests = subprocess.run([sys.executable, "-m", "pytest", *(pytest_args or ["tests"])],
                           cwd=root, check=False).returncode
    if lint != 0:
        print("ruff found problems (above); `./tessera lint --fix` mends most of them.")
    return tests or lint


def bench(bench_args: list[str]) -> int:
    """`bench` runs bench/run.py; `bench search ...` runs bench/search.py."""
    name = "run"
    if bench_args and not bench_args[0].startswith("-"):
        name, *bench_args = bench_args
    root = checkout()
    if not (root / "bench" / f"{name}.py").exists():
        print(f"There is no benchmark {name!r}; see the files in bench/.")
        return 2
    return subprocess.run([sys.executable, "-m", f"bench.{name}", *bench_args], cwd=root,
                          check=False).returncode


def lint(fix: bool) -> int:
    return subprocess.run([sys.executable, "-m", "ruff", "check", *(["--fix"] if fix else []),
                           str(checkout())], check=False).returncode


def instances(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {raw!r}")
    return int(raw)


def database_owner(raw: str) -> str:
    if raw not in SERVICES:
        raise argparse.ArgumentTypeError(f"{raw!r} has no database: {', '.join(SERVICES)}")
    return raw


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tessera", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up_command = commands.add_parser("up", help="run the whole platform until Ctrl-C")
    up_command.add_argument("--replicas", type=instances, default=1, metavar="N",
                            help="instances of every service and of the gateway (default 1); "
                                 "the gateway spreads requests over the ready ones")
    commands.add_parser("test", help="lint and run the whole test suite; other arguments "
                                     "go to pytest (default: tests)")
    serve_command = commands.add_parser(
        "serve", help="run one service in the foreground (what each container runs)")
    serve_command.add_argument("service", choices=["gateway", "user", "auth", "registry",
                                                   "events"])
    serve_command.add_argument("--port", type=int, default=8000)
    health_command = commands.add_parser(
        "healthcheck", help="exit 0 if the process serving --port here is ready (the image's "
                            "HEALTHCHECK), else 1")
    health_command.add_argument("--port", type=int, default=8000)
    migrate_command = commands.add_parser(
        "migrate", help="bring the services' databases to their newest revision (a cluster's "
                        "migration job); `serve` does it for its own service too")
    migrate_command.add_argument("services", nargs="*", type=database_owner, metavar="SERVICE",
                                 help="user, auth, registry or events (default: all four)")
    # Their --help is the service command's own (`tessera admin --help`).
    commands.add_parser("admin", add_help=False,
                        help="admin grant <email> | admin revoke <email> | admin list: who "
                             "may read the whole action log")
    commands.add_parser("registry", add_help=False,
                        help="registry omikron|iota add|list|remove, registry subscription "
                             "<user> <level> <days>")
    # Its --help is the benchmarks' own (`tessera bench --help` lists every case).
    commands.add_parser("bench", add_help=False,
                        help="run the benchmarks: bench [--quick], or bench <case> [options]; "
                             "bench --help lists the cases")
    lint_command = commands.add_parser("lint", help="ruff over the whole tree")
    lint_command.add_argument("--fix", action="store_true")
    args, passed_on = parser.parse_known_args(argv)
    if passed_on and args.command not in {"test", "bench", "admin", "registry"}:
        parser.error(f"unrecognized arguments: {' '.join(passed_on)}")

    if args.command == "up":
        return up(args.replicas)
    if args.command == "serve":
        serve(args.service, args.port)
    if args.command == "healthcheck":
        return healthcheck(args.port)
    if args.command == "migrate":
        return migrate(args.services)
    if args.command == "admin":
        return admin("admin", passed_on)
    if args.command == "registry":
        return admin("registry", passed_on)
    if args.command == "bench":
        return bench(passed_on)
    if args.command == "test":
        return run_tests(passed_on)
    return lint(args.fix)
