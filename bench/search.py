"""Search latency at 100k and 1M users on PostgreSQL, against a primary-key lookup measured on
the same database in the same run; the p50 and p99 of each query against the number of users
are drawn in bench/charts/search-users.png.

    ./tessera bench search                       # 100,000 and 1,000,000 users
    ./tessera bench search --sizes 10000         # quicker

Uses DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres); makes a
throw-away database there, fills it with synthetic profiles, and drops it at the end. Each
query runs through `user_service.search.search`, exactly what the endpoint runs.
"""

from __future__ import annotations

import os
import secrets
import statistics
import time

import sqlalchemy as sa
from sqlalchemy import orm

from bench.plot import chart
from bench.run import parser_for, save
from tessera_shared.config import Settings
from tessera_shared.db import create_engine, database_url
from tessera_shared.migrations import upgrade
from user_service import search

FIRST = ["Ann", "Bob", "Carla", "Dmitri", "Eve", "Farah", "Gus", "Hana", "Ivo", "Jun", "Kofi",
         "Lena", "Mateo", "Nia", "Omar", "Pia", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Viktor",
         "Wen", "Xena", "Yusuf", "Zoë"]
LAST = ["Lee", "Smith", "García", "Novak", "Okafor", "Ivanova", "Tanaka", "Müller", "Silva",
        "Khan", "Rossi", "Dubois", "Nguyen", "Kowalski", "Haddad", "Larsen", "Costa", "Sato"]
BIO = ["painter", "runner", "baker", "pilot", "chess player", "gardener", "poet", "climber",
       "drummer", "nurse", "carpenter", "astronomer", "beekeeper", "cyclist", "translator"]
CITY = ["Oslo", "Lagos", "Lima", "Kyoto", "Porto", "Tartu", "Cusco", "Hanoi", "Perth", "Quito"]
QUERIES = {
    "one handle": "u7777",
    "first + last name": "ann lee",
    "common name prefix": "ann",
    "bio word prefix": "pilo",
    "no match": "xylophonist",
    "no query (page 1 of everyone)": None,
}


def sql_array(words: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + w.replace("'", "''") + "'" for w in words) + "]"


def fill(engine: sa.Engine, size: int) -> None:
    """`size` profiles, inserted without the index, which is then built once."""
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP INDEX IF EXISTS {search.INDEX_NAME}"))
        connection.execute(sa.text("TRUNCATE profiles CASCADE"))  # follows refer to them
        connection.execute(sa.text(f"""
            INSERT INTO profiles (id, handle, handle_key, display_name, bio, is_verified,
                                  created_at, updated_at)
            SELECT md5(i::text), 'u' || i, 'u' || i,
                   ({sql_array(FIRST)})[1 + i % {len(FIRST)}] || ' ' ||
                   ({sql_array(LAST)})[1 + (i / {len(FIRST)}) % {len(LAST)}],
                   CASE WHEN i % 3 = 0 THEN ({sql_array(BIO)})[1 + i % {len(BIO)}] || ' from ' ||
                        ({sql_array(CITY)})[1 + i % {len(CITY)}] END,
                   false, now() - i * interval '1 second', now()
            FROM generate_series(1, :size) AS i"""), {"size": size})
        connection.execute(sa.text(
            f"CREATE INDEX {search.INDEX_NAME} ON profiles USING gin ({search.COLUMN})"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE profiles"))


def timed(action: object, runs: int) -> tuple[float, float]:
    """(p50, p99) in milliseconds over `runs` calls, after a warm-up."""
    for _ in range(5):
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def main() -> None:
    parser = parser_for("search", __doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="user counts to fill and measure (default 100000 1000000)")
    parser.add_argument("--runs", type=int, default=100,
                        help="queries timed per case (default 100)")
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    base = sa.engine.make_url(server).set(database=f"tessera_bench_{secrets.token_hex(3)}")
    settings = Settings.from_env("user", {
        "REDIS_URL": "redis://unused", "INTERNAL_SECRET": "x", "SECRET_KEY": "x",
        "DATABASE_URL": base.render_as_string(hide_password=False)})
    print(f"Search benchmark on {sa.engine.make_url(server).host} "
          f"(database {base.database}_user)", flush=True)
    upgrade(settings)
    engine = create_engine(database_url(settings))
    results: dict = {"sizes": {}}
    try:
        for size in args.sizes:
            print(f"  .. filling {size:,} profiles (and building the index)", flush=True)
            started = time.monotonic()
            fill(engine, size)
            print(f"     done in {time.monotonic() - started:.0f} s", flush=True)
            with orm.Session(engine) as session:
                some_id = session.scalar(sa.text("SELECT id FROM profiles LIMIT 1"))
                anchor, _ = timed(lambda key=some_id: session.scalar(
                    sa.text("SELECT handle FROM profiles WHERE id = :id"), {"id": key}),
                    args.runs)
                rows = {"primary-key lookup (anchor)": {"p50_ms": round(anchor, 3)}}
                for label, query in QUERIES.items():
                    hits = search.search(session, query, page=1, page_size=20).total
                    p50, p99 = timed(lambda q=query: search.search(session, q, page=1,
                                                                   page_size=20), args.runs)
                    rows[label] = {"hits_counted": hits, "p50_ms": round(p50, 2),
                                   "p99_ms": round(p99, 2), "x_anchor": round(p50 / anchor)}
                    print(f"     {label:<32} {hits:>9,} hits  p50 {p50:8.2f} ms  "
                          f"p99 {p99:8.2f} ms  ({p50 / anchor:,.0f}x the PK lookup)", flush=True)
            results["sizes"][size] = rows
    finally:
        engine.dispose()
        admin = sa.create_engine(sa.engine.make_url(server).set(
            drivername="postgresql+psycopg", database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{base.database}_user" '
                                       "WITH (FORCE)"))
        admin.dispose()
    sizes = args.sizes
    drawn = chart("search-users", "user search on PostgreSQL (user_service.search)",
                  ("users", sizes), {f"{stat} (ms)": {
                      label: [results["sizes"][size][label][f"{stat}_ms"] for size in sizes]
                      for label in QUERIES} for stat in ("p50", "p99")})
    print(f"Chart: bench/charts/{drawn.name}")
    print(f"Saved to {save('search', results)}")


if __name__ == "__main__":
    main()
