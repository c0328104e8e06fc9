"""Alembic environment of registry-service (`python -m tessera_shared.migrations registry`)."""

from registry_service.models import db
from tessera_shared.migrations import run_migrations

run_migrations(db)
