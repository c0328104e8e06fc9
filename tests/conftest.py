"""Fixtures every layer of the suite shares: a real Redis, and databases.

With nothing set, tests start their own Redis (the `redis-server` on PATH or the bundled one)
and use SQLite files. With `REDIS_URL` and/or `DATABASE_URL` set (CI's second pass), they use
those servers instead; each test database gets a unique name and is dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tessera_launcher.launch import redis_binary
from tessera_launcher.processes import free_port
from tests.oauth_provider import Provider


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--replicas", type=int, default=1, metavar="N",
                     help="run every platform the suite launches with N instances of every "
                          "service and of the gateway (`tessera up --replicas N`)")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    data = tmp_path_factory.mktemp("redis")
    port = free_port()
    process = subprocess.Popen(
        [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(data)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture
def redis_client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


def postgres_server() -> str | None:
    return os.environ.get("DATABASE_URL") or None


def unique_database_server() -> str | None:
    """A server URL whose database-name prefix no other test run uses."""
    server = postgres_server()
    if server is None:
        return None
    return make_url(server).set(database=f"tessera_t{secrets.token_hex(4)}").render_as_string(
        hide_password=False)


def drop_databases(server_url: str) -> None:
    """Drop every database a test made on the server (they share the URL's name prefix)."""
    url = make_url(server_url)
    engine = sa.create_engine(url.set(drivername="postgresql+psycopg", database="postgres"),
                              isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        names = connection.scalars(sa.text("SELECT datname FROM pg_database WHERE datname "
                                           "LIKE :prefix"), {"prefix": f"{url.database}_%"}).all()
        for name in names:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def service_env(tmp_path: Path, redis_url: str) -> Iterator[dict[str, str]]:
    """The environment a service process (or `Settings.from_env`) needs, isolated per test."""
    env = {
        "REDIS_URL": redis_url,
        "INTERNAL_SECRET": secrets.token_urlsafe(32),
        "SECRET_KEY": secrets.token_urlsafe(32),
        "TESSERA_VAR_DIR": str(tmp_path / "var"),
        "PUBLIC_URL": "http://127.0.0.1:8080",
    }
    server = unique_database_server()
    if server:
        env["DATABASE_URL"] = server
    yield env
    if server:
        drop_databases(server)


@pytest.fixture(scope="session")
def google() -> Iterator[Provider]:
    """A Google-like OpenID Connect provider on loopback (tests/oauth_provider.py)."""
    provider = Provider("google").start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def github() -> Iterator[Provider]:
    """A GitHub-like OAuth 2.0 provider with its REST API on loopback."""
    provider = Provider("github").start()
    yield provider
    provider.stop()
