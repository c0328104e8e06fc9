"""Tessera's benchmarks: every figure is a ratio against an anchor measured in the same run.

    ./tessera bench                # all cases, about two minutes
    ./tessera bench --quick        # one run per case instead of three

Cases (see ../shared/reference/perf-notes.md for why each anchor):
  gateway  GET of a small profile answer, through the gateway vs straight to user-service:
           throughput ratio at 32 connections, added p50 latency at 1 connection, and the CPU
           each hop spends per request; and against Debian's nginx proxying the same
           endpoint, when installed (apt-get install nginx-light).
  login    POST /v0/auth/login through the gateway vs the bare argon2id verify loop (same
           parameters, one process per core): the fraction of the hashing floor we keep;
           and a signed-in session check's p99 and throughput while logins run, against
           the same check at idle (logins must not starve it: p99 <= 5x, rate >= 0.5x).
  memory   the whole platform's resident memory (RSS and PSS summed over every process) at
           idle and under the gateway load.

Load comes from `wrk` when it is installed (apt-get install wrk), else from a built-in
Python generator (slower, so absolute figures drop; the ratios still compare like with like).
Every load is bounded in time and stops by itself; the platform is stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import multiprocessing
import os
import platform as host
import re
import shutil
import statistics
import subprocess
import tempfile
import textwrap
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from auth_service.passwords import HASHER
from bench import nginx
from tessera_launcher import detached
from tessera_launcher.processes import LaunchError

OUT = Path(__file__).with_name("out")
TICKS = os.sysconf("SC_CLK_TCK")


# The modules of bench/ that are not cases of their own.
NOT_CASES = frozenset({"__init__", "run", "bare", "plot", "nginx"})


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    failures: int = 0  # answers other than 2xx/3xx, and socket errors (wrk counts them)


def progress(message: str) -> None:
    print(f"  .. {message}", flush=True)


# -- load generation -----------------------------------------------------------------------

def _wrk(url: str, connections: int, seconds: float, body: str | None,
         headers: dict[str, str]) -> Load:
    # wrk drops an answer slower than its 2 s default as an error; a queue of logins behind
    # the hashing floor is slower than that and is what a p99 should show.
    argv = ["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d",
            f"{seconds}s", "--timeout", "30s", "--latency", url]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if body is not None:
            script.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
                         'wrk.headers["Content-Type"] = "application/json"\n')
        for name, value in headers.items():
            script.write(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n")
    if body is not None or headers:
        argv[1:1] = ["-s", script.name]
    output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", output, re.MULTILINE)
        value, unit = float(match.group(1)), match.group(2)
        return value * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    total = int(re.search(r"(\d+) requests in", output).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    failures = (int(refused.group(1)) if refused else 0) + (
        sum(map(int, errors.groups())) if errors else 0)
    return Load(rps, latency("50"), latency("99"), total, failures)


def _python_load(url: str, connections: int, seconds: float, body: str | None,
                 headers: dict[str, str]) -> Load:
    import http.client  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine = []
        while time.monotonic() < deadline:
            started = time.perf_counter()
            if body is None:
                connection.request("GET", target, headers=headers)
            else:
                connection.request("POST", target, body,
                                   {"Content-Type": "application/json", **headers})
            connection.getresponse().read()
            mine.append(time.perf_counter() - started)
        latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(latencies)
    return Load(len(ordered) / seconds, ordered[len(ordered) // 2] * 1000,
                ordered[int(len(ordered) * 0.99)] * 1000, len(ordered))


def load(url: str, connections: int, seconds: float, body: str | None = None,
         headers: dict[str, str] | None = None) -> Load:
    run = _wrk if shutil.which("wrk") else _python_load
    return run(url, connections, seconds, body, headers or {})


# -- process accounting --------------------------------------------------------------------

def process_tree(pid: int) -> list[int]:
    tree, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        tree += map(int, children)
        frontier += map(int, children)
    return tree


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def memory_mib(pids: list[int]) -> tuple[float, float]:
    """(RSS, PSS) summed over the processes, in MiB. PSS shares each page among the
    processes that map it, so a sum of PSS is what the platform really occupies."""
    rss = pss = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        rss += int(re.search(r"^Rss:\s+(\d+)", text, re.MULTILINE).group(1))
        pss += int(re.search(r"^Pss:\s+(\d+)", text, re.MULTILINE).group(1))
    return rss / 1024, pss / 1024


# -- cases ---------------------------------------------------------------------------------

def _verify_loop(stored: str, seconds: float, counter: multiprocessing.Value) -> None:
    deadline, done = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        HASHER.verify(stored, "correct horse battery staple")
        done += 1
    with counter.get_lock():
        counter.value += done


def argon2_floor(seconds: float) -> float:
    """Verifies per second with the platform's parameters, one process per core."""
    stored = HASHER.hash("correct horse battery staple")
    counter = multiprocessing.Value("i", 0)
    workers = [multiprocessing.Process(target=_verify_loop, args=(stored, seconds, counter))
               for _ in range(os.cpu_count() or 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counter.value / seconds


NGINX_PROXY = """location / { proxy_pass http://service; proxy_http_version 1.1;
                  proxy_set_header Connection ""; proxy_set_header Host $host;
                  proxy_set_header X-Forwarded-For $remote_addr; }"""


def nginx_anchor(service_url: str, path: str, runs: int, through_1: Load,
                 through_32: Load) -> dict:
    """nginx proxying the same endpoint to the same service with pooled connections, one
    worker as the gateway has, and the gateway's figures read against it."""
    upstream = f"upstream service {{ server {service_url.split('//', 1)[1]}; keepalive 64; }}"
    with nginx.running(NGINX_PROXY, http=upstream) as (port, _pid):
        url = f"http://127.0.0.1:{port}{path}"
        load(url, 8, 2)
        one, many = median_load(url, 1, 5, runs), median_load(url, 32, 8, runs)
    return {"nginx_rps": round(many.requests_per_second),
            "nginx_p50_ms_c1": round(one.p50_ms, 3),
            "gateway_vs_nginx_throughput": round(through_32.requests_per_second
                                                 / many.requests_per_second, 3),
            "gateway_minus_nginx_p50_ms_c1": round(through_1.p50_ms - one.p50_ms, 3)}


def signed_in_cookie(public: str, body: str) -> str:
    request = urllib.request.Request(f"{public}/v0/auth/login", body.encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return response.headers["Set-Cookie"].split(";", 1)[0]


def login_isolation(public: str, body: str, runs: int) -> dict:
    """Whether logins at the hashing floor starve the requests beside them: a signed-in
    session check on auth-service (`GET /v0/auth/totp/status`, 2 connections), at idle and
    while 8 connections log in."""
    check, cookie = f"{public}/v0/auth/totp/status", {"Cookie": signed_in_cookie(public, body)}
    load(check, 2, 1, headers=cookie)
    idle = median_load(check, 2, 4, runs, headers=cookie)
    busy: list[Load] = []
    for _ in range(runs):
        logins = threading.Thread(target=load, args=(f"{public}/v0/auth/login", 8, 7, body))
        logins.start()
        time.sleep(1.5)  # logins queue up to the floor first
        busy.append(load(check, 2, 4, headers=cookie))
        logins.join()
    during = Load(statistics.median(x.requests_per_second for x in busy),
                  statistics.median(x.p50_ms for x in busy),
                  statistics.median(x.p99_ms for x in busy), sum(x.requests for x in busy),
                  sum(x.failures for x in busy))
    return {"idle_rps": round(idle.requests_per_second), "idle_p99_ms": round(idle.p99_ms, 2),
            "during_logins_rps": round(during.requests_per_second),
            "during_logins_p99_ms": round(during.p99_ms, 2),
            "p99_vs_idle": round(during.p99_ms / idle.p99_ms, 2),
            "throughput_vs_idle": round(during.requests_per_second
                                        / idle.requests_per_second, 2),
            "failures": idle.failures + during.failures}


def median_load(url: str, connections: int, seconds: float, runs: int,
                body: str | None = None, headers: dict[str, str] | None = None) -> Load:
    loads = [load(url, connections, seconds, body, headers) for _ in range(runs)]
    return Load(statistics.median(x.requests_per_second for x in loads),
                statistics.median(x.p50_ms for x in loads),
                statistics.median(x.p99_ms for x in loads), sum(x.requests for x in loads))


@contextlib.contextmanager
def running_platform(name: str) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """The whole platform on the launcher's defaults in a fresh folder (its URL, folder and
    launcher); stopped by PID at the end."""
    var_dir = Path(tempfile.mkdtemp(prefix=f"tessera-{name}-")) / "var"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    try:
        running = detached.start(var_dir, env)
    except LaunchError as error:
        raise SystemExit(f"the platform did not start: {error}") from None
    try:
        yield running.url, var_dir, running.process
    finally:
        running.stop()


def save(name: str, results: dict) -> str:
    """Write a run's figures to bench/out/<name>-<time>.json; returns that path."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    return f"bench/out/{path.name}"


def post(url: str, payload: dict) -> int:
    request = urllib.request.Request(url, json.dumps(payload).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return response.status


def parser_for(case: str, doc: str | None) -> argparse.ArgumentParser:
    """The command line of `./tessera bench <case>`, its help being the case's docstring."""
    return argparse.ArgumentParser(prog=f"tessera bench {case}".strip(), description=doc,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def other_cases() -> str:
    """The other benchmarks (`./tessera bench <case>`), each with its docstring's summary."""
    lines = ["other cases (`./tessera bench <case> --help` shows each one's options):"]
    for module in sorted(Path(__file__).parent.glob("*.py")):
        if module.stem in NOT_CASES:
            continue
        summary = ast.get_docstring(ast.parse(module.read_text())) or ""
        lines.append(textwrap.fill(" ".join(summary.split("\n\n")[0].split()), width=92,
                                   initial_indent=f"  {module.stem:<9}",
                                   subsequent_indent=" " * 11))
    return "\n".join(lines)


def main() -> None:
    parser = parser_for("", __doc__)
    parser.epilog = other_cases()
    parser.add_argument("--quick", action="store_true", help="one run per case")
    args = parser.parse_args()
    runs = 1 if args.quick else 3

    results: dict = {"machine": {"cpus": os.cpu_count(), "python": host.python_version(),
                                 "system": host.platform(),
                                 "generator": "wrk" if shutil.which("wrk") else "python"}}
    print("Tessera benchmarks — starting the platform with the launcher's defaults", flush=True)
    with running_platform("bench") as (public, var_dir, launcher):
        facts = json.loads((var_dir / "run" / "platform.json").read_text())
        pids = {name: process_tree(pid) for name, pid in facts["pids"].items()}
        everything = process_tree(launcher.pid)
        time.sleep(2)
        idle_rss, idle_pss = memory_mib(everything)
        # Each process on its own (the launcher and its redis are the rest of the sum).
        each = {f"{name} {pid}": round(memory_mib([pid])[1], 1)
                for name, tree in pids.items() for pid in tree}
        results["memory_idle_mib"] = {"rss": round(idle_rss), "pss": round(idle_pss),
                                      "processes": len(everything), "pss_per_process": each}
        progress(f"idle: RSS {idle_rss:.0f} MiB, PSS {idle_pss:.0f} MiB "
                 f"over {len(everything)} processes; PSS per process: {each}")

        handle = "benchuser"
        post(f"{public}/v0/users", {"email": "bench@example.com", "handle": handle,
                                    "display_name": "Bench", "password":
                                    "correct horse battery staple"})
        path = f"/v0/users/handle/{handle}/available"
        direct, through = facts["user_url"] + path, public + path
        load(direct, 8, 2)  # warm both paths and their pools
        load(through, 8, 2)

        progress("gateway: latency at 1 connection")
        direct_1 = median_load(direct, 1, 5, runs)
        through_1 = median_load(through, 1, 5, runs)
        progress("gateway: throughput at 32 connections")
        before = {name: cpu_seconds(tree) for name, tree in pids.items()}
        direct_32 = median_load(direct, 32, 8, runs)
        middle = {name: cpu_seconds(tree) for name, tree in pids.items()}
        sampler_stop = threading.Event()
        peak = [0.0, 0.0]

        def sample() -> None:
            while not sampler_stop.wait(0.5):
                rss, pss = memory_mib(everything)
                peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)

        sampler = threading.Thread(target=sample)
        sampler.start()
        through_32 = median_load(through, 32, 8, runs)
        sampler_stop.set()
        sampler.join()
        after = {name: cpu_seconds(tree) for name, tree in pids.items()}
        user_direct_us = (middle["user"] - before["user"]) / direct_32.requests * 1e6
        user_through_us = (after["user"] - middle["user"]) / through_32.requests * 1e6
        gateway_us = (after["gateway"] - middle["gateway"]) / through_32.requests * 1e6
        results["gateway"] = {
            "direct_rps": round(direct_32.requests_per_second),
            "gateway_rps": round(through_32.requests_per_second),
            "throughput_ratio": round(through_32.requests_per_second
                                      / direct_32.requests_per_second, 3),
            "direct_p50_ms_c1": round(direct_1.p50_ms, 3),
            "gateway_p50_ms_c1": round(through_1.p50_ms, 3),
            "added_p50_ms_c1": round(through_1.p50_ms - direct_1.p50_ms, 3),
            "service_cpu_us_per_request": round(user_direct_us),
            "gateway_cpu_us_per_request": round(gateway_us),
            "gateway_cpu_vs_service": round(gateway_us / user_through_us, 2),
        }
        results["memory_under_load_mib"] = {"rss": round(peak[0]), "pss": round(peak[1])}
        if nginx.available():
            progress("gateway: the same through Debian's nginx (what an operator might use)")
            results["gateway"].update(nginx_anchor(facts["user_url"], path, runs,
                                                   through_1, through_32))
        else:
            progress("gateway: no nginx anchor (apt-get install nginx-light)")
        progress(f"gateway: {results['gateway']}")

        progress("login: the argon2id floor (one verifying process per core)")
        floor = argon2_floor(5)
        progress("login: through the gateway at 4 connections")
        body = json.dumps({"email": "bench@example.com",
                           "password": "correct horse battery staple"})
        before = {name: cpu_seconds(tree) for name, tree in pids.items()}
        login = median_load(f"{public}/v0/auth/login", 4, 10, runs, body)
        after = {name: cpu_seconds(tree) for name, tree in pids.items()}
        results["login"] = {
            "argon2_floor_per_s": round(floor, 1),
            "login_per_s": round(login.requests_per_second, 1),
            "fraction_of_floor": round(login.requests_per_second / floor, 3),
            "p50_ms": round(login.p50_ms, 1), "p99_ms": round(login.p99_ms, 1),
            "single_verify_ms": round(1000 * (os.cpu_count() or 1) / floor, 1),
            # Where a login's CPU goes besides its hash (auth's figure includes the hash).
            "cpu_ms_per_login": {name: round((after[name] - before[name]) * 1000
                                             / login.requests, 2) for name in pids},
        }
        progress(f"login: {results['login']}")
        results["login_isolation"] = login_isolation(public, body, runs)
        progress(f"login isolation: {results['login_isolation']}")

    print(json.dumps(results, indent=2))
    print(f"\nSaved to {save('results', results)}; copy the figures to bench/RESULTS.md.")


if __name__ == "__main__":
    main()
