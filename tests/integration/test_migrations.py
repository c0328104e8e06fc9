"""Every service's migrations build exactly the schema its models describe."""

import importlib
import os
import subprocess
import sys

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


def test_instances_starting_at_once_migrate_a_new_database_once(service_env):
    """Each instance of a service migrates its database as it starts (`tessera serve`), and
    a cluster starts several at once."""
    if not service_env.get("DATABASE_URL"):
        pytest.skip("on SQLite the launcher migrates once, before it starts any instance")
    instances = [subprocess.Popen([sys.executable, "-m", "tessera_shared.migrations", "events"],
                                  env={**os.environ, **service_env}, stderr=subprocess.PIPE)
                 for _ in range(3)]
    failures = [process.stderr.read().decode() for process in instances
                if process.wait(60) != 0]
    assert failures == []
    engine = sa.create_engine(database_url(Settings.from_env("events", service_env)))
    with engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM alembic_version")) == 1
    engine.dispose()


def test_tessera_migrate_brings_the_named_databases_to_their_newest_revision(service_env):
    """What a cluster's migration job runs."""
    command_line = [sys.executable, "-m", "tessera_launcher", "migrate"]
    env = {**os.environ, **service_env}
    done = subprocess.run([*command_line, "user", "events"], env=env, capture_output=True,
                          text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "migrated user database\n"
                                                 "migrated events database\n")
    for service in ("user", "events"):
        engine = sa.create_engine(database_url(Settings.from_env(service, service_env)))
        with engine.connect() as connection:
            assert connection.scalar(sa.text("SELECT count(*) FROM alembic_version")) == 1
        engine.dispose()
    refused = subprocess.run([*command_line, "gateway"], env=env, capture_output=True,
                             text=True, check=False)
    assert refused.returncode == 2
    assert "'gateway' has no database" in refused.stderr
