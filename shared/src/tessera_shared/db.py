"""Databases: one per service. SQLite files under `var/` by default; with `DATABASE_URL` naming
a PostgreSQL server, each service uses its own database on it (`<name>_<service>`)."""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.engine import Engine, make_url

from tessera_shared import outbox
from tessera_shared.config import ConfigError, Settings
from tessera_shared.transactions import NAMING_CONVENTION


def make_db() -> SQLAlchemy:
    """The service's Flask-SQLAlchemy handle, with the event outbox tables already declared."""
    db = SQLAlchemy(metadata=sa.MetaData(naming_convention=NAMING_CONVENTION))
    outbox.declare_tables(db.metadata)
    return db


def database_url(settings: Settings) -> str:
    """The SQLAlchemy URL of this service's own database."""
    if not settings.database_url:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{settings.var_dir / f'{settings.service}.sqlite3'}"
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        raise ConfigError("DATABASE_URL must name a PostgreSQL server "
                          "(postgresql://user@host:5432/name); leave it unset for SQLite.")
    base = url.database or "tessera"
    return url.set(drivername="postgresql+psycopg",
                   database=f"{base}_{settings.service}").render_as_string(hide_password=False)


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database named by `url` if it is missing; True if it was created."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return False
    server = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    exists = sa.text("SELECT 1 FROM pg_database WHERE datname = :n")
    try:
        with server.connect() as connection:
            if connection.scalar(exists, {"n": parsed.database}):
                return False
            quoted = server.dialect.identifier_preparer.quote(parsed.database)
            try:
                connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
            except (sa.exc.IntegrityError, sa.exc.ProgrammingError):
                # Another instance starting at the same moment created it first.
                if not connection.scalar(exists, {"n": parsed.database}):
                    raise
                return False
            return True
    finally:
        server.dispose()


# Every request thread may hold a connection at once (a login holds its own while it waits
# for its hash), and so may each background worker: the launcher gives a service up to 16
# threads, and a service runs at most four background workers.
CONNECTIONS_IN_USE = 16 + 4


def engine_options(url: str) -> dict[str, Any]:
    # A failing statement's parameters (an email, a password hash, a sealed secret) never
    # reach an error message, and so never a log.
    if make_url(url).get_backend_name() == "sqlite":
        # A connection opened past the pool is closed again when returned, and each new one
        # runs its PRAGMAs: keep one for every thread that may want one.
        return {"hide_parameters": True, "pool_size": CONNECTIONS_IN_USE, "max_overflow": 8,
                "connect_args": {"timeout": 10, "check_same_thread": False}}
    # psycopg 3 prepares a statement after five runs, and PostgreSQL then reuses a generic plan
    # made without the parameters' values; for full-text search that plan can be a table
    # scan (measured at 1M profiles: 1.4 ms became 10.7 ms). Planning each time is cheaper.
    # Few kept open (four services share the server's 100), as many as may be in use at once.
    return {"hide_parameters": True, "pool_pre_ping": True, "pool_size": 5,
            "max_overflow": CONNECTIONS_IN_USE - 5,
            "connect_args": {"prepare_threshold": None}}


def create_engine(url: str) -> Engine:
    """An engine for a service's database outside its app (operator commands, tools)."""
    return tune(sa.create_engine(url, **engine_options(url)))


def tune(engine: Engine) -> Engine:
    """Attach the per-connection settings a service's engine needs (SQLite only)."""
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _tune_sqlite)
    return engine


def _tune_sqlite(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    """WAL lets readers run beside the writer; foreign keys are off in SQLite unless asked."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
