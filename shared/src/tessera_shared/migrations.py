"""Alembic, driven from code: each service package keeps its revisions in
`<package>/migrations/versions` (package data, found through importlib.resources) and its
`env.py` is one call to `run_migrations`."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from flask_sqlalchemy import SQLAlchemy

from tessera_shared.config import Settings
from tessera_shared.db import database_url, ensure_database, tune

MIGRATION_LOCK = 0x7E55E7A  # PostgreSQL's advisory lock key for a database being migrated
SERVICE_PACKAGES = {"user": "user_service", "auth": "auth_service",
                    "registry": "registry_service", "events": "events_service"}


def migrations_dir(service: str) -> Path:
    return Path(str(resources.files(SERVICE_PACKAGES[service]) / "migrations"))


def alembic_config(service: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir(service)))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["service"] = service
    return config


def upgrade(settings: Settings) -> None:
    """Create the service's database if needed and bring it to the newest revision."""
    url = database_url(settings)
    ensure_database(url)
    command.upgrade(alembic_config(settings.service, url), "head")


def run_migrations(db: SQLAlchemy) -> None:
    """The body of every service's `migrations/env.py`."""
    config = context.config
    engine = tune(sa.create_engine(config.get_main_option("sqlalchemy.url")))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=db.metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Instances of a service that start at once each migrate: one at a time, so
                # the later ones find the database at its newest revision already.
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": MIGRATION_LOCK})
            context.run_migrations()
    engine.dispose()


def main() -> None:
    """`python -m tessera_shared.migrations <service>`: upgrade that service's database."""
    service = sys.argv[1]
    upgrade(Settings.from_env(service))


if __name__ == "__main__":
    main()
