from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tessera_shared.db import ensure_database
from tessera_shared.events import declare_tables
from tests.conftest import drop_databases, unique_database_server


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
