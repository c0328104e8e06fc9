"""Alembic environment of user-service (`python -m tessera_shared.migrations user`)."""

from tessera_shared.migrations import run_migrations
from user_service.models import db

run_migrations(db)
