"""The key registry: REST and Omikron WebSocket through the gateway, against the same calls
made straight to registry-service in the same run.

    ./tessera bench registry            # three runs per REST case, 2,000 socket round trips
    ./tessera bench registry --quick

Cases:
  rest    GET /api/get/<uuid> (one internal call to user-service for the profile): throughput
          at 32 connections and p50 at 1 connection, through the gateway vs direct.
  socket  an authenticated Omikron's round trips, one at a time: `ping` (answered by the
          registry alone) and `get_user_data` (a database read, Redis presence and a call to
          user-service), through the gateway's WebSocket bridge vs direct.

The Iota and Omikron are the test suite's (tests/tensamin.py), which behave like Tensamin's.
The platform runs with the launcher's defaults and is stopped by PID at the end; every load
is bounded in time or count.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid

from bench.run import median_load, parser_for, progress, running_platform, save
from tests.tensamin import Iota, Omikron, OmikronSocket, register_omikron


def round_trips(socket: OmikronSocket, kind: str, data: dict, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        socket.ask(kind, data)
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"p50_ms": round(statistics.median(ordered), 3),
            "p99_ms": round(ordered[int(len(ordered) * 0.99)], 3)}


def main() -> None:
    parser = parser_for("registry", __doc__)
    parser.add_argument("--quick", action="store_true", help="one run per REST case")
    parser.add_argument("--round-trips", type=int, default=2000,
                        help="WebSocket round trips per socket case (default 2000)")
    args = parser.parse_args()
    runs, seconds = (1, 3) if args.quick else (3, 5)
    print("Registry benchmark — starting the platform with the launcher's defaults", flush=True)
    results: dict = {}
    with running_platform("registry") as (gateway, var_dir, _launcher):
        direct = json.loads((var_dir / "run" / "platform.json").read_text())["registry_url"]
        username = "bench" + uuid.uuid4().hex[:8]
        user_id = Iota(gateway).create_user(username).user_id

        for label, connections in (("throughput_c32", 32), ("latency_c1", 1)):
            progress(f"rest {label}: direct, then through the gateway")
            straight = median_load(f"{direct}/api/get/{user_id}", connections, seconds, runs)
            proxied = median_load(f"{gateway}/api/get/{user_id}", connections, seconds, runs)
            results[f"rest_{label}"] = {
                "direct_rps": round(straight.requests_per_second),
                "gateway_rps": round(proxied.requests_per_second),
                "ratio": round(proxied.requests_per_second / straight.requests_per_second, 2),
                "direct_p50_ms": round(straight.p50_ms, 2),
                "gateway_p50_ms": round(proxied.p50_ms, 2),
                "added_p50_ms": round(proxied.p50_ms - straight.p50_ms, 2)}
            print(f"  rest {label}: {results[f'rest_{label}']}", flush=True)

        registered = register_omikron(var_dir)
        for path, base in (("direct", direct), ("gateway", gateway)):
            progress(f"socket round trips, {path}")
            socket = Omikron(base, registered).connect()
            lookup = {"username": username}
            results[f"socket_{path}"] = {
                "ping": summary(round_trips(socket, "ping", {}, args.round_trips)),
                "get_user_data": summary(round_trips(socket, "get_user_data", lookup,
                                                     args.round_trips))}
            socket.close()
            print(f"  socket {path}: {results[f'socket_{path}']}", flush=True)
        results["socket_added_p50_ms"] = {
            kind: round(results["socket_gateway"][kind]["p50_ms"]
                        - results["socket_direct"][kind]["p50_ms"], 3)
            for kind in ("ping", "get_user_data")}
        print(f"  socket, added by the gateway (p50): {results['socket_added_p50_ms']}")
    print(f"Saved to {save('registry', results)}")


if __name__ == "__main__":
    main()
