from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import auth_service
import user_service
from tessera_shared.config import Settings
from tessera_shared.db import ensure_database
from tessera_shared.internal import InternalClient
from tessera_shared.migrations import upgrade
from tessera_shared.outbox import declare_tables
from tests.conftest import drop_databases, unique_database_server


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
