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
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")  # files only: no display is needed or wanted
import matplotlib.pyplot as plt  # after choosing the backend

from bench.run import Load, argon2_floor, load, parser_for, post, progress, running_platform, save

CHARTS = Path(__file__).with_name("charts")
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


def chart(name: str, title: str, levels: list[int], series: dict[str, list[Load]],
          floor: float | None = None) -> Path:
    """Throughput and p99 against connections, one line per series; `floor`: a ceiling of
    throughput to draw (the hashing floor for login)."""
    figure, (rate, tail) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for label, points in series.items():
        rate.plot(levels, [p.requests_per_second for p in points], marker="o", label=label)
        tail.plot(levels, [p.p99_ms for p in points], marker="o", label=label)
    if floor is not None:
        rate.axhline(floor, linestyle="--", color="grey", label="argon2id floor")
    for axis, label in ((rate, "requests per second"), (tail, "p99 latency (ms)")):
        axis.set_xscale("log", base=2)
        axis.set_xticks(levels, [str(level) for level in levels])
        axis.set_xlabel("connections")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        axis.set_ylim(bottom=0)
    rate.legend()
    figure.suptitle(title)
    CHARTS.mkdir(exist_ok=True)
    path = CHARTS / f"{name}.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


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

    charts = [
        chart("read-concurrency", "GET /v0/users/handle/{h}/available", args.levels,
              {"straight to user-service": direct, "through the gateway": through}),
        chart("login-concurrency", "POST /v0/auth/login through the gateway", args.levels,
              {"login": login}, floor=floor),
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
