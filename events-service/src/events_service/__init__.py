"""events-service: the action log (the audit trail) and its live SSE stream."""

from __future__ import annotations

from flask import Flask

from events_service import actions, catalog
from events_service.live import Broadcaster, publisher
from events_service.models import db
from events_service.v0 import action_logs
from tessera_shared.app import add_consumer, create_service_app
from tessera_shared.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("events")
    app, api = create_service_app(__name__, settings, db, title="Tessera events service")
    handle = app.extensions["tessera"]
    publish = publisher(handle.redis)
    add_consumer(app, db, group="events-service", handlers={
        event_type: lambda session, event: actions.record_event(session, event, publish)
        for event_type in catalog.CATALOG})
    broadcaster = Broadcaster(handle.redis)
    app.extensions["events.broadcaster"] = broadcaster
    handle.background.append(broadcaster)
    api.register_blueprint(action_logs.blp)
    return app
