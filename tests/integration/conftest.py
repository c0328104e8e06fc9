from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import auth_service
import events_service
import registry_service
import user_service
from auth_service.models import Account, QueuedMail
from auth_service.models import db as auth_db
from gateway.routes import match
from tessera_shared.config import Settings
from tessera_shared.db import ensure_database
from tessera_shared.internal import InternalClient
from tessera_shared.migrations import upgrade
from tessera_shared.outbox import declare_tables
from tests.conftest import drop_databases, unique_database_server
from user_service.models import Profile
from user_service.models import db as user_db


class ToUserApp(InternalClient):
    """auth-service's signed calls, delivered to a real user-service app in this process."""

    def __init__(self, user_app: Any, secret: bytes) -> None:
        super().__init__("auth", secret, {})
        self.user_app = user_app

    def send(self, service: str, method: str, path: str, body: bytes,
             headers: dict[str, str]) -> tuple[int, bytes]:
        response = self.user_app.test_client().open(path, method=method, data=body,
                                                    headers=headers)
        return response.status_code, response.data


@pytest.fixture
def apps(service_env):
    """user-service and auth-service apps on their migrated databases."""
    user_settings, auth_settings = (Settings.from_env(name, service_env)
                                    for name in ("user", "auth"))
    upgrade(user_settings)
    upgrade(auth_settings)
    return user_service.create_app(user_settings), auth_service.create_app(auth_settings)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    """A database with the event outbox tables, on SQLite or the PostgreSQL under test."""
    server = unique_database_server()
    if server:
        url = sa.engine.make_url(server).set(drivername="postgresql+psycopg")
        url = url.set(database=f"{url.database}_events")
        ensure_database(url.render_as_string(hide_password=False))
    else:
        url = sa.engine.make_url(f"sqlite:///{tmp_path / 'events.sqlite3'}")
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    declare_tables(metadata)
    sa.Table("applied", metadata, sa.Column("event_id", sa.String(36), primary_key=True))
    metadata.create_all(engine)
    yield engine
    engine.dispose()
    if server:
        drop_databases(server)


@dataclass
class Services:
    """Every service app in this process, on migrated databases and the suite's Redis, as
    `create_app` makes them; their signed internal calls reach each other's apps directly,
    instead of over the network (background workers do not run: events wait in the outboxes).
    """

    apps: dict[str, Flask]

    def client(self, service: str) -> FlaskClient:
        """A test client of `service` connecting from an address of its own (so throttling
        of one test never meets another's)."""
        client = self.apps[service].test_client()
        octets = (secrets.randbelow(256) for _ in range(3))
        client.environ_base["REMOTE_ADDR"] = "10.{}.{}.{}".format(*octets)
        return client

    def browser(self) -> Browser:
        return Browser(self)

    def mail_to(self, address: str) -> list[QueuedMail]:
        """The mails queued for `address`, oldest first (no sender runs in process)."""
        with self.apps["auth"].app_context():
            return list(auth_db.session.scalars(sa.select(QueuedMail).where(
                QueuedMail.recipient == address).order_by(QueuedMail.next_attempt_at)))

    def stored(self) -> tuple[int, int]:
        """How many accounts (auth) and profiles (user) there are."""
        with self.apps["auth"].app_context():
            accounts = auth_db.session.scalar(sa.select(sa.func.count()).select_from(Account))
        with self.apps["user"].app_context():
            profiles = user_db.session.scalar(sa.select(sa.func.count()).select_from(Profile))
        return accounts, profiles

    def deliver(self, service: str, method: str, path: str, body: bytes,
                headers: dict[str, str]) -> tuple[int, bytes]:
        answer = self.apps[service].test_client().open(path, method=method, data=body,
                                                       headers=headers)
        return answer.status_code, answer.data


class Browser:
    """One client of the whole platform in process: each request goes to the app the
    gateway's route table names for it, with one cookie jar and one address."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.cookies: dict[str, str] = {}
        octets = (secrets.randbelow(256) for _ in range(3))
        self.address = "10.{}.{}.{}".format(*octets)

    def request(self, method: str, path: str, **options: Any) -> TestResponse:
        route = match(method, path)
        assert route is not None, f"the gateway routes no {method} {path}"
        client = self.services.apps[route.service].test_client(use_cookies=False)
        client.environ_base["REMOTE_ADDR"] = self.address
        headers = options.pop("headers", {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        answer = client.open(path, method=method, headers=headers, **options)
        for header in answer.headers.getlist("Set-Cookie"):
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0":  # how Flask deletes a cookie
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return answer

    def get(self, path: str, **options: Any) -> TestResponse:
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> TestResponse:
        return self.request("POST", path, **options)

    def delete(self, path: str, **options: Any) -> TestResponse:
        return self.request("DELETE", path, **options)


@pytest.fixture(scope="module")
def services_env() -> dict[str, str]:
    """Variables a test module adds to its services' environment (it overrides this)."""
    return {}


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory, redis_url: str,
             services_env: dict[str, str]) -> Iterator[Services]:
    """The four service apps for a module's tests (made once: migrating takes a while)."""
    env = {"REDIS_URL": redis_url, "INTERNAL_SECRET": secrets.token_urlsafe(32),
           "SECRET_KEY": secrets.token_urlsafe(32), "PUBLIC_URL": "http://127.0.0.1:8080",
           "TESSERA_VAR_DIR": str(tmp_path_factory.mktemp("services") / "var"), **services_env}
    server = unique_database_server()
    if server:
        env["DATABASE_URL"] = server
    factories = {"user": user_service.create_app, "auth": auth_service.create_app,
                 "registry": registry_service.create_app, "events": events_service.create_app}
    apps = {}
    for name, create_app in factories.items():
        settings = Settings.from_env(name, env)
        upgrade(settings)
        apps[name] = create_app(settings)
    running = Services(apps)
    for app in apps.values():
        app.extensions["tessera"].internal.send = running.deliver
    yield running
    if server:
        drop_databases(server)
