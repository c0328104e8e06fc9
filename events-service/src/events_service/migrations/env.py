"""Alembic environment of events-service (`python -m tessera_shared.migrations events`)."""

from events_service.models import db
from tessera_shared.migrations import run_migrations

run_migrations(db)
