"""Live action-log fan-out: publish-to-delivery latency to N SSE subscribers through the
gateway, against anchors measured in the same run: the bare Redis PUBLISH -> SUBSCRIBE round
trip, and Redis itself broadcasting the same entries to N subscribers read by the same client.

    ./tessera bench fanout                  # 100 and 1,000 subscribers, 20 entries each
    ./tessera bench fanout --clients 200

Subscribers are raw asyncio sockets in two client processes (as perf-notes §2e measures),
sharing the machine's cores with the platform; they only look for each entry's publish time
in the bytes, so the client costs the same for both paths. Entries are published on the live
channel as events-service publishes them, each carrying its publish time in its summary
(CLOCK_MONOTONIC is shared by every process on the machine). The platform runs with the
launcher's defaults; the CPU that its gateway and events-service spend per entry is reported
too.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import re
import statistics
import threading
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Event

import psutil
import redis

from bench.run import parser_for, running_platform, save
from events_service.live import CHANNEL
from tessera_shared.ids import uuid7

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
    def redis(cls, url: str) -> Target:
        address = redis.Redis.from_url(url).connection_pool.connection_kwargs
        command = f"*2\r\n$9\r\nSUBSCRIBE\r\n${len(RAW_CHANNEL)}\r\n{RAW_CHANNEL}\r\n"
        return cls(address["host"], address["port"], command.encode(), b"subscribe")


async def subscriber(target: Target, on_ready: asyncio.Event, ready: list[int], count: int,
                     wanted: int, received: list[float]) -> None:
    reader, writer = await asyncio.open_connection(target.host, target.port)
    writer.write(target.request)
    await writer.drain()
    got, subscribed, pending = 0, False, b""
    while got < wanted:
        data = await reader.read(65536)
        if not data:
            break
        now = time.monotonic_ns()
        pending += data
        if not subscribed and target.ready in pending:
            subscribed = True
            ready.append(1)
            if len(ready) == count:
                on_ready.set()
        end = 0
        for match in SENT.finditer(pending):
            received.append((now - int(match[1])) / 1e6)
            got, end = got + 1, match.end()
        pending = pending[end:][-64:]  # keep a marker split across two reads
    writer.close()


def client_process(target: Target, count: int, wanted: int, ready: Event,
                   results: multiprocessing.Queue) -> None:
    """`count` subscribers in this process: signals `ready` once all are subscribed, then
    puts the latencies it saw."""
    async def run() -> list[float]:
        on_ready, subscribed, received = asyncio.Event(), [], []
        tasks = [asyncio.create_task(subscriber(target, on_ready, subscribed, count, wanted,
                                                received)) for _ in range(count)]
        await asyncio.wait_for(on_ready.wait(), 60)
        ready.set()
        await asyncio.wait(tasks, timeout=60)
        return received

    results.put(asyncio.run(run()))


def server_cpu_seconds(pids: list[int]) -> float:
    """CPU time of these processes and their workers so far."""
    total = 0.0
    for pid in pids:
        process = psutil.Process(pid)
        for member in (process, *process.children(recursive=True)):
            times = member.cpu_times()
            total += times.user + times.system
    return total


def fan_out(target: Target, publish: redis.Redis, channel: str, clients: int, entries: int,
            servers: dict[str, list[int]]) -> dict:
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = context.Queue()
    shares = [clients // CLIENT_PROCESSES + (n < clients % CLIENT_PROCESSES)
              for n in range(CLIENT_PROCESSES)]
    readies = [context.Event() for _ in shares]
    processes = [context.Process(target=client_process,
                                 args=(target, share, entries, ready, results))
                 for share, ready in zip(shares, readies, strict=True)]
    for process in processes:
        process.start()
    for ready in readies:
        if not ready.wait(90):
            raise SystemExit("subscribers did not all connect within 90 s")
    cpu_before = {name: server_cpu_seconds(pids) for name, pids in servers.items()}
    for _ in range(entries):
        publish.publish(channel, json.dumps({
            "id": str(uuid7()), "action": "user:edit", "actor_id": None, "actor_ip": None,
            # The summary carries the send time: anonymous readers see no metadata.
            "resource_type": "User", "resource_id": None,
            "summary": f"bench {time.monotonic_ns()}", "metadata": None, "public": True,
            "created_at": "2026-11-22T00:00:00Z"}))
        time.sleep(0.2)
    received = [latency for _ in processes for latency in results.get(timeout=90)]
    for process in processes:
        process.join(10)
    row = {"clients": clients, "delivered": f"{len(received)}/{clients * entries}",
           "p50_ms": round(statistics.median(received), 2),
           "p99_ms": round(percentile(received, 0.99), 2),
           "max_ms": round(max(received), 2)}
    for name, pids in servers.items():
        used = server_cpu_seconds(pids) - cpu_before[name]
        row[f"{name}_cpu_ms_per_entry"] = round(used * 1000 / entries, 1)
    return row


def main() -> None:
    parser = parser_for("fanout", __doc__)
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000],
                        help="subscriber counts to measure (default 100 1000)")
    parser.add_argument("--entries", type=int, default=20,
                        help="entries published per subscriber count (default 20)")
    args = parser.parse_args()
    print("Fan-out benchmark — starting the platform with the launcher's defaults", flush=True)
    results: dict = {}
    with running_platform("fanout") as (url, var_dir, _launcher):
        facts = json.loads((var_dir / "run" / "platform.json").read_text())
        publish = redis.Redis.from_url(facts["redis_url"])
        servers = {name: [facts["pids"][name]] for name in ("gateway", "events")}
        p50, p99 = redis_anchor(facts["redis_url"])
        results["redis_publish_to_subscriber"] = {"p50_ms": round(p50, 3), "p99_ms": round(p99, 3)}
        print(f"  anchor: bare Redis PUBLISH -> SUBSCRIBE p50 {p50:.3f} ms, p99 {p99:.3f} ms",
              flush=True)
        gateway = Target.gateway(int(url.rsplit(":", 1)[1]))
        for clients in args.clients:
            raw = fan_out(Target.redis(facts["redis_url"]), publish, RAW_CHANNEL, clients,
                          args.entries, {})
            print(f"  {clients:>5} subscribers straight on Redis:    {raw}", flush=True)
            row = fan_out(gateway, publish, CHANNEL, clients, args.entries, servers)
            row["p50_vs_redis_broadcast"] = round(row["p50_ms"] / raw["p50_ms"], 2)
            row["p99_vs_redis_broadcast"] = round(row["p99_ms"] / raw["p99_ms"], 2)
            results[f"redis_broadcast_{clients}"] = raw
            results[f"sse_{clients}"] = row
            print(f"  {clients:>5} subscribers through the gateway: {row}", flush=True)
    print(f"Saved to {save('fanout', results)}")


if __name__ == "__main__":
    main()
