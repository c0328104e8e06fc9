"""Every service's migrations build exactly the schema its models describe."""

import importlib

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tessera_shared.config import SERVICES, Settings
from tessera_shared.db import database_url
from tessera_shared.migrations import SERVICE_PACKAGES, alembic_config, upgrade


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models_and_run_both_ways(service, service_env):
    settings = Settings.from_env(service, service_env)
    upgrade(settings)
    url = database_url(settings)
    models = importlib.import_module(f"{SERVICE_PACKAGES[service]}.models")
    engine = sa.create_engine(url)
    unmanaged = getattr(models, "UNMANAGED_SCHEMA", ())

    def managed(obj, name, type_, reflected, compare_to):
        return not (name or "").startswith(unmanaged)

    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(
            connection, opts={"include_object": managed}), models.db.metadata)
    assert differences == []
    command.downgrade(alembic_config(service, url), "base")
    with engine.connect() as connection:
        assert set(sa.inspect(connection).get_table_names()) <= {"alembic_version"}
    upgrade(settings)  # and up again from nothing
    engine.dispose()
