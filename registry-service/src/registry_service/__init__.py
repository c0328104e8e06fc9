"""registry-service: public keys, private-key hashes, reset tokens, Iotas and Omikrons
(the registry REST and WebSocket families)."""

from __future__ import annotations

from flask import Flask

from registry_service import events, omega, rest
from registry_service.models import db
from registry_service.pending import Registrations
from tessera_shared.app import add_consumer, create_service_app
from tessera_shared.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("registry")
    app, api = create_service_app(__name__, settings, db, title="Tessera registry service")
    add_consumer(app, db, group="registry-service", handlers=events.HANDLERS)
    app.extensions["registrations"] = Registrations(app.extensions["tessera"].redis)
    api.register_blueprint(rest.blp)
    app.register_blueprint(rest.paths)
    omega.init_app(app)
    app.wsgi_app = rest.any_method_reads(app.wsgi_app)  # type: ignore[method-assign]
    return app
