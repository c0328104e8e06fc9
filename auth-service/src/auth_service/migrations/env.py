"""Alembic environment of auth-service (`python -m tessera_shared.migrations auth`)."""

from auth_service.models import db
from tessera_shared.migrations import run_migrations

run_migrations(db)
