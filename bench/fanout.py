"""Live action-log fan-out: publish-to-delivery latency to N SSE subscribers through the
gateway, against the bare Redis PUBLISH -> SUBSCRIBE round trip measured in the same run.

    ./tessera bench fanout                  # 100 and 1,000 subscribers, 20 entries each
    ./tessera bench fanout --clients 200

Subscribers are raw asyncio sockets in this process; entries are published on the live
channel as events-service publishes them, each carrying its publish time in its summary
(CLOCK_MONOTONIC is shared by every process on the machine). The platform runs with the
launcher's defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import threading
import time

import redis

from bench.run import running_platform, save
from events_service.live import CHANNEL
from tessera_shared.ids import uuid7


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


async def subscriber(port: int, ready: asyncio.Event, connected: list[int],
                     clients: int, wanted: int, received: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /v0/eventstream/actions HTTP/1.1\r\nHost: bench\r\n"
                 b"Accept: text/event-stream\r\n\r\n")
    await writer.drain()
    got = 0
    while got < wanted:
        line = await reader.readline()
        if not line:
            break
        if line.startswith(b": connected"):
            connected.append(1)
            if len(connected) == clients:
                ready.set()
        elif line.startswith(b"data: "):
            sent = int(json.loads(line[6:])["summary"].split()[-1])
            received.append((time.monotonic_ns() - sent) / 1e6)
            got += 1
    writer.close()


async def fan_out(port: int, redis_url: str, clients: int, entries: int) -> dict:
    ready, connected, received = asyncio.Event(), [], []
    tasks = [asyncio.create_task(subscriber(port, ready, connected, clients, entries,
                                            received)) for _ in range(clients)]
    await asyncio.wait_for(ready.wait(), 60)
    publisher = redis.Redis.from_url(redis_url)
    for _ in range(entries):
        entry_id = str(uuid7())
        publisher.publish(CHANNEL, json.dumps({
            "id": entry_id, "action": "user:edit", "actor_id": None, "actor_ip": None,
            # The summary carries the send time: anonymous readers see no metadata.
            "resource_type": "User", "resource_id": None,
            "summary": f"bench {time.monotonic_ns()}", "metadata": None, "public": True,
            "created_at": "2026-11-22T00:00:00Z"}))
        await asyncio.sleep(0.2)
    await asyncio.wait(tasks, timeout=30)
    expected = clients * entries
    return {"clients": clients, "delivered": f"{len(received)}/{expected}",
            "p50_ms": round(statistics.median(received), 2),
            "p99_ms": round(percentile(received, 0.99), 2),
            "max_ms": round(max(received), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--entries", type=int, default=20)
    args = parser.parse_args()
    print("Fan-out benchmark — starting the platform with the launcher's defaults", flush=True)
    results: dict = {}
    with running_platform("fanout") as (url, var_dir, _launcher):
        port = int(url.rsplit(":", 1)[1])
        redis_url = json.loads((var_dir / "run" / "platform.json").read_text())["redis_url"]
        p50, p99 = redis_anchor(redis_url)
        results["redis_publish_to_subscriber"] = {"p50_ms": round(p50, 3), "p99_ms": round(p99, 3)}
        print(f"  anchor: bare Redis PUBLISH -> SUBSCRIBE p50 {p50:.3f} ms, p99 {p99:.3f} ms",
              flush=True)
        for clients in args.clients:
            row = asyncio.run(fan_out(port, redis_url, clients, args.entries))
            row["p99_vs_redis_p99"] = round(row["p99_ms"] / p99, 1)
            results[f"sse_{clients}"] = row
            print(f"  {clients:>5} subscribers through the gateway: {row}", flush=True)
    print(f"Saved to {save('fanout', results)}")


if __name__ == "__main__":
    main()
