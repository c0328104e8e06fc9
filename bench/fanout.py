"""Live action-log fan-out: publish-to-delivery latency to N SSE subscribers through the
gateway, against anchors measured in the same run: the bare Redis PUBLISH -> SUBSCRIBE round
trip, Redis itself broadcasting the same entries to N subscribers read by the same client, and
(when Debian's nginx-light and libnginx-mod-nchan are installed) nginx's nchan module feeding
them as EventSource. p50, p99 and memory against subscribers go to
bench/charts/fanout-subscribers.png.

    ./tessera bench fanout                  # 100, 1,000 and 10,000 subscribers, 20 entries each
    ./tessera bench fanout --clients 200

Subscribers are raw asyncio sockets in two client processes (as perf-notes §2e measures),
sharing the machine's cores with the platform; they only look for each entry's publish time
in the bytes, so the client costs the same for both paths. Entries are published on the live
channel as events-service publishes them, each carrying its publish time in its summary
(CLOCK_MONOTONIC is shared by every process on the machine). The platform runs with the
launcher's defaults; the CPU that its gateway and events-service spend per entry, and the
gateway's memory per 1,000 open streams (PSS), are reported too.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import multiprocessing
import re
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event
from pathlib import Path

import redis

from bench import nginx
from bench.plot import chart
from bench.run import cpu_seconds, memory_mib, parser_for, process_tree, running_platform, save
from events_service.live import entry as live_entry
from tessera_shared.ids import uuid7
from tessera_shared.live import CHANNEL

CLIENT_PROCESSES = 2
RAW_CHANNEL = "bench:fanout"
SENT = re.compile(rb'bench (\d+)"')


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def redis_anchor(url: str, count: int = 300) -> tuple[float, float]:
    """(p50, p99) ms of PUBLISH -> a subscriber in another thread receiving it."""
    client = redis.Redis.from_url(url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("bench:anchor")
    latencies: list[float] = []
    done = threading.Event()

    def listen() -> None:
        for message in pubsub.listen():
            latencies.append((time.monotonic_ns() - int(message["data"])) / 1e6)
            if len(latencies) == count:
                done.set()
                return

    threading.Thread(target=listen, daemon=True).start()
    time.sleep(0.2)
    for _ in range(count):
        client.publish("bench:anchor", time.monotonic_ns())
        time.sleep(0.002)
    done.wait(10)
    pubsub.close()
    return statistics.median(latencies), percentile(latencies, 0.99)


@dataclass(frozen=True)
class Target:
    """Where subscribers connect, what they send, and what says they are subscribed."""

    host: str
    port: int
    request: bytes
    ready: bytes

    @classmethod
    def gateway(cls, port: int) -> Target:
        return cls("127.0.0.1", port, b"GET /v0/eventstream/actions HTTP/1.1\r\nHost: bench\r\n"
                   b"Accept: text/event-stream\r\n\r\n", b": connected")

    @classmethod
    def nchan(cls, port: int) -> Target:
        return cls("127.0.0.1", port, b"GET /sub HTTP/1.1\r\nHost: bench\r\n"
                   b"Accept: text/event-stream\r\n\r\n", b"\r\n\r\n")

    @classmethod
    def redis(cls, url: str) -> Target:
        address = redis.Redis.from_url(url).connection_pool.connection_kwargs
        command = f"*2\r\n$9\r\nSUBSCRIBE\r\n${len(RAW_CHANNEL)}\r\n{RAW_CHANNEL}\r\n"
        if password := address.get("password"):  # the bundled Redis has one
            command = f"*2\r\n$4\r\nAUTH\r\n${len(password)}\r\n{password}\r\n{command}"
        return cls(address["host"], address["port"], command.encode(), b"subscribe")


CONNECTING_AT_ONCE = 200  # per client process: a crowd arriving at once overflows backlogs


@dataclass
class Crowd:
    """The subscribers of one client process, and what they saw."""

    count: int
    wanted: int  # entries each waits for
    gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(CONNECTING_AT_ONCE))
    all_ready: asyncio.Event = field(default_factory=asyncio.Event)
    ready: int = 0
    received: list[float] = field(default_factory=list)

    def subscribed(self) -> None:
        self.ready += 1
        if self.ready == self.count:
            self.all_ready.set()


async def subscriber(target: Target, crowd: Crowd) -> None:
    async with crowd.gate:  # held until subscribed
        reader, writer = await asyncio.open_connection(target.host, target.port)
        writer.write(target.request)
        await writer.drain()
        pending = b""
        while target.ready not in pending:
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("the subscription was refused")
            pending += data
        crowd.subscribed()
    got, now = 0, time.monotonic_ns()
    while True:
        end = 0
        for match in SENT.finditer(pending):
            crowd.received.append((now - int(match[1])) / 1e6)
            got, end = got + 1, match.end()
        pending = pending[end:][-64:]  # keep a marker split across two reads
        if got >= crowd.wanted:
            break
        data = await reader.read(65536)
        if not data:
            break
        now = time.monotonic_ns()
        pending += data
    writer.close()


def client_process(target: Target, count: int, wanted: int, ready: Event,
                   results: multiprocessing.Queue) -> None:
    """`count` subscribers in this process: signals `ready` once all are subscribed, then
    puts the latencies it saw."""
    async def run() -> list[float]:
        crowd = Crowd(count, wanted)
        tasks = [asyncio.create_task(subscriber(target, crowd)) for _ in range(count)]
        await asyncio.wait_for(crowd.all_ready.wait(), connect_seconds(count))
        ready.set()
        await asyncio.wait(tasks, timeout=60)
        return crowd.received

    results.put(asyncio.run(run()))


def connect_seconds(count: int) -> float:
    return 60 + count / 50


def as_record(sent_ns: int) -> dict:
    """A public entry as events-service stores it; the summary carries the send time
    (anonymous readers see no metadata)."""
    return {"id": str(uuid7()), "action": "user:edit", "actor_id": None, "actor_ip": None,
            "resource_type": "User", "resource_id": None, "summary": f"bench {sent_ns}",
            "metadata": None, "public": True, "created_at": "2026-11-22T00:00:00Z"}


Publish = Callable[[dict], None]


def on_redis(client: redis.Redis, channel: str, message: Callable[[dict], str]) -> Publish:
    return lambda record: client.publish(channel, message(record))


def on_nchan(port: int) -> Publish:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def publish(record: dict) -> None:
        connection.request("POST", "/pub", json.dumps(record),
                           {"Content-Type": "application/json"})
        connection.getresponse().read()
    return publish


# Messages expire after 2 s, so a run's subscribers are never sent the last run's.
NCHAN = """
    location = /pub { nchan_publisher; nchan_channel_id actions;
                      nchan_message_buffer_length 100; nchan_message_timeout 2s; }
    location = /sub { nchan_subscriber eventsource; nchan_channel_id actions; }
"""


@contextlib.contextmanager
def nchan(clients: int) -> Iterator[tuple[int, int] | None]:
    """nginx with its nchan module: (port, pid), or None when it is not installed."""
    if not nginx.available("ngx_nchan_module"):
        yield None
        return
    with nginx.running(NCHAN, modules=("ngx_nchan_module",), connections=clients + 1000) as up:
        yield up


def every(pids: list[int]) -> list[int]:
    """These processes and all their descendants (a gunicorn master and its workers)."""
    return [member for pid in pids for member in process_tree(pid)]


@dataclass(frozen=True)
class Servers:
    """The processes a path's deliveries cost, and their PSS before any subscriber came
    (memory a run freed is kept by the allocator, so a later run's own start is no base)."""

    pids: dict[str, list[int]]
    idle_mib: dict[str, float]

    @classmethod
    def of(cls, pids: dict[str, list[int]]) -> Servers:
        return cls(pids, {name: memory_mib(every(each))[1] for name, each in pids.items()})


def fan_out(target: Target, publish: Publish, clients: int, entries: int,
            servers: Servers) -> dict:
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = context.Queue()
    shares = [clients // CLIENT_PROCESSES + (n < clients % CLIENT_PROCESSES)
              for n in range(CLIENT_PROCESSES)]
    readies = [context.Event() for _ in shares]
    processes = [context.Process(target=client_process, daemon=True,  # gone with the bench
                                 args=(target, share, entries, ready, results))
                 for share, ready in zip(shares, readies, strict=True)]
    for process in processes:
        process.start()
    for ready in readies:
        if not ready.wait(connect_seconds(clients) + 10):
            raise SystemExit(f"subscribers did not all connect within "
                             f"{connect_seconds(clients) + 10:.0f} s")
    held = {name: memory_mib(every(pids))[1] for name, pids in servers.pids.items()}
    cpu_before = {name: cpu_seconds(every(pids)) for name, pids in servers.pids.items()}
    for _ in range(entries):
        publish(as_record(time.monotonic_ns()))
        time.sleep(0.2)
    received = [latency for _ in processes for latency in results.get(timeout=90)]
    for process in processes:
        process.join(10)
    row = {"clients": clients, "delivered": f"{len(received)}/{clients * entries}",
           "p50_ms": round(statistics.median(received), 2),
           "p99_ms": round(percentile(received, 0.99), 2),
           "max_ms": round(max(received), 2)}
    for name, pids in servers.pids.items():
        used = cpu_seconds(every(pids)) - cpu_before[name]
        row[f"{name}_cpu_ms_per_entry"] = round(used * 1000 / entries, 1)
        row[f"{name}_pss_mib"] = round(held[name], 1)
        row[f"{name}_mib_per_1000_streams"] = round(
            (held[name] - servers.idle_mib[name]) * 1000 / clients, 1)
    return row


def medians(rows: list[dict]) -> dict:
    """Each figure's median over the runs; what was delivered, summed."""
    merged = {key: statistics.median(row[key] for row in rows) for key in rows[0]
              if isinstance(rows[0][key], float | int)}
    delivered = [tuple(map(int, row["delivered"].split("/"))) for row in rows]
    return {**merged, "delivered": f"{sum(d[0] for d in delivered)}/{sum(d[1] for d in delivered)}"}


LABELS = {"redis_broadcast": "Redis broadcast (anchor)", "nchan": "nginx + nchan (anchor)",
          "sse": "through the gateway"}
MEMORY = {"sse": "gateway", "nchan": "nchan"}  # whose PSS each path's memory is


def draw(results: dict, counts: list[int], paths: list[str]) -> Path:
    return chart("fanout-subscribers", "live fan-out: publish to delivery, anonymous SSE",
                 ("subscribers", counts), {
                     f"{stat} (ms)": {
                         LABELS[name]: [results[f"{name}_{n}"][f"{stat}_ms"] for n in counts]
                         for name in paths}
                     for stat in ("p50", "p99")} | {
                     "memory held (MiB PSS)": {
                         LABELS[name]: [results[f"{name}_{n}"][f"{MEMORY[name]}_pss_mib"]
                                        for n in counts]
                         for name in paths if name in MEMORY}})


def main() -> None:
    parser = parser_for("fanout", __doc__)
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000, 10_000],
                        help="subscriber counts to measure (default 100 1000 10000)")
    parser.add_argument("--entries", type=int, default=20,
                        help="entries published per run (default 20)")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs per subscriber count and path; medians are kept (default 3)")
    args = parser.parse_args()
    print("Fan-out benchmark — starting the platform with the launcher's defaults", flush=True)
    results: dict = {}
    with running_platform("fanout") as (url, var_dir, _launcher), \
            nchan(max(args.clients)) as nginx:
        facts = json.loads((var_dir / "run" / "platform.json").read_text())
        redis_client = redis.Redis.from_url(facts["redis_url"])
        # Redis takes 10,000 clients by default; the anchor needs as many as the gateway gets.
        redis_client.config_set("maxclients", max(args.clients) + 1000)
        p50, p99 = redis_anchor(facts["redis_url"])
        results["redis_publish_to_subscriber"] = {"p50_ms": round(p50, 3), "p99_ms": round(p99, 3)}
        print(f"  anchor: bare Redis PUBLISH -> SUBSCRIBE p50 {p50:.3f} ms, p99 {p99:.3f} ms",
              flush=True)
        paths = {  # name: (where subscribers connect, how entries are published, servers)
            "redis_broadcast": (Target.redis(facts["redis_url"]),
                                on_redis(redis_client, RAW_CHANNEL, json.dumps), Servers.of({})),
            "sse": (Target.gateway(int(url.rsplit(":", 1)[1])),
                    on_redis(redis_client, CHANNEL, lambda r: live_entry(r).encode()),
                    Servers.of({name: [facts["pids"][name]] for name in ("gateway", "events")}))}
        if nginx is None:
            print("  (no nchan anchor: apt-get install nginx-light libnginx-mod-nchan)")
        else:
            paths["nchan"] = (Target.nchan(nginx[0]), on_nchan(nginx[0]),
                              Servers.of({"nchan": [nginx[1]]}))
        for clients in args.clients:
            runs: dict[str, list[dict]] = {name: [] for name in paths}
            for run in range(1, args.runs + 1):  # alternated, so drift hits every path alike
                for name, (target, publish, servers) in paths.items():
                    runs[name].append(fan_out(target, publish, clients, args.entries, servers))
                    print(f"  {clients:>6} subscribers, {name}, run {run}: {runs[name][-1]}",
                          flush=True)
            for name, rows in runs.items():
                results[f"{name}_{clients}"] = medians(rows)
            ours = results[f"sse_{clients}"]
            for anchor in ("redis_broadcast", "nchan"):
                for stat in ("p50", "p99"):
                    if f"{anchor}_{clients}" in results:
                        ours[f"{stat}_vs_{anchor}"] = round(
                            ours[f"{stat}_ms"] / results[f"{anchor}_{clients}"][f"{stat}_ms"], 2)
            print(f"  {clients:>6} subscribers, medians: " + json.dumps(
                {name: results[f"{name}_{clients}"] for name in paths}), flush=True)
    drawn = draw(results, args.clients, list(paths))
    print(f"Chart: bench/charts/{drawn.name}")
    print(f"Saved to {save('fanout', results)}")


if __name__ == "__main__":
    main()
