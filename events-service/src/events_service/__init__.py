"""events-service: the action log (the audit trail) and its live SSE stream."""

from __future__ import annotations

from flask import Flask

from events_service.models import db
from tessera_shared.app import create_service_app
from tessera_shared.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("events")
    app, _api = create_service_app(__name__, settings, db, title="Tessera events service")
    return app
