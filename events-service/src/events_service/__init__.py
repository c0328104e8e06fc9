"""events-service: the action log (the audit trail) and its live SSE stream, whose
connections the gateway holds (`tessera_shared.live`)."""

from __future__ import annotations

from flask import Flask

from events_service import consumers
from events_service.api.v0 import action_logs
from events_service.models import db
from tessera_shared.app import add_consumer, create_service_app
from tessera_shared.config import Settings
from tessera_shared.platform import Platform


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("events")
    app, api = create_service_app(__name__, settings, db, title="Tessera events service")
    platform = Platform.of(app)
    add_consumer(app, group="events-service", handlers=consumers.handlers(platform))
    api.register_blueprint(action_logs.blp)
    return app
