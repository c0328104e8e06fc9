"""How cost grows with load: throughput and p99 latency against concurrency (1 to 64
connections) for the trivial read, straight to user-service and through the gateway, and for
login through the gateway, against the argon2id floor measured in the same run. Each curve
is drawn as a PNG chart in bench/charts/.

    ./tessera bench curves                          # 1, 2, 4, 8, 16, 32, 64 connections
    ./tessera bench curves --levels 1 8 64 --seconds 2

The platform runs on the launcher's defaults and is stopped by PID at the end; every load is
bounded in time.
"""

from __future__ import annotations

import json

from bench.plot import chart
from bench.run import Load, argon2_floor, load, parser_for, post, progress, running_platform, save

LEVELS = [1, 2, 4, 8, 16, 32, 64]
PASSWORD = "correct horse battery staple"


def curve(url: str, levels: list[int], seconds: int, body: str | None = None) -> list[Load]:
    load(url, levels[0], 1, body)  # warm the path and its pools
    points = []
    for connections in levels:
        point = load(url, connections, seconds, body)
        failed = f", {point.failures} failed" if point.failures else ""
        progress(f"{connections:>3} connections: {point.requests_per_second:,.0f}/s, "
                 f"p99 {point.p99_ms:.1f} ms{failed}")
        points.append(point)
    return points


def panels(series: dict[str, list[Load]]) -> dict[str, dict[str, list[float]]]:
    return {"requests per second": {label: [p.requests_per_second for p in points]
                                    for label, points in series.items()},
            "p99 latency (ms)": {label: [p.p99_ms for p in points]
                                 for label, points in series.items()}}


def main() -> None:
    parser = parser_for("curves", __doc__)
    parser.add_argument("--levels", type=int, nargs="+", default=LEVELS,
                        help="connection counts to measure (default 1 2 4 8 16 32 64)")
    parser.add_argument("--seconds", type=int, default=3,
                        help="length of each load (default 3)")
    args = parser.parse_args()

    print("Cost curves — starting the platform with the launcher's defaults", flush=True)
    with running_platform("curves") as (public, var_dir, _launcher):
        facts = json.loads((var_dir / "run" / "platform.json").read_text())
        post(f"{public}/v0/users", {"email": "bench@example.com", "handle": "benchuser",
                                    "display_name": "Bench", "password": PASSWORD})
        path = "/v0/users/handle/benchuser/available"
        progress("the trivial read, straight to user-service")
        direct = curve(facts["user_url"] + path, args.levels, args.seconds)
        progress("the trivial read, through the gateway")
        through = curve(public + path, args.levels, args.seconds)
        progress("login: the argon2id floor (one verifying process per core)")
        floor = argon2_floor(5)
        progress("login, through the gateway")
        body = json.dumps({"email": "bench@example.com", "password": PASSWORD})
        login = curve(f"{public}/v0/auth/login", args.levels, args.seconds, body)

    connections = ("connections", args.levels)
    charts = [
        chart("read-concurrency", "GET /v0/users/handle/{h}/available", connections,
              panels({"straight to user-service": direct, "through the gateway": through})),
        chart("login-concurrency", "POST /v0/auth/login through the gateway", connections,
              panels({"login": login}), reference=("argon2id floor", floor)),
    ]
    results = {"levels": args.levels, "argon2_floor_per_s": round(floor, 1), **{
        name: [{"rps": round(p.requests_per_second, 1), "p50_ms": round(p.p50_ms, 2),
                "p99_ms": round(p.p99_ms, 2), "failures": p.failures} for p in points]
        for name, points in (("read_direct", direct), ("read_gateway", through),
                             ("login", login))}}
    print(json.dumps(results, indent=2))
    print("\nCharts: " + ", ".join(f"bench/charts/{path.name}" for path in charts))
    print(f"Saved to {save('curves', results)}; copy the figures to bench/RESULTS.md.")


if __name__ == "__main__":
    main()
