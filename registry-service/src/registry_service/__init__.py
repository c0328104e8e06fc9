"""registry-service: public keys, private-key hashes, reset tokens, Iotas and Omikrons
(the registry REST and WebSocket families)."""

from __future__ import annotations

from flask import Flask

from registry_service import cli, consumers
from registry_service.api import omikron, rest
from registry_service.extensions import Helpers
from registry_service.models import db
from registry_service.pending import Registrations
from registry_service.profiles import registry_profiles
from tessera_shared.app import add_consumer, create_service_app
from tessera_shared.config import Settings
from tessera_shared.context import request_id
from tessera_shared.platform import Platform


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("registry")
    app, api = create_service_app(__name__, settings, db, title="Tessera registry service")
    platform = Platform.of(app)
    add_consumer(app, group="registry-service", handlers=consumers.handlers(platform))
    Helpers(Registrations(platform.redis),
            registry_profiles(platform.internal, request_id)).init_app(app)
    api.register_blueprint(rest.blp)
    app.register_blueprint(rest.paths)
    omikron.init_app(app)
    app.wsgi_app = rest.any_method_reads(app.wsgi_app)  # type: ignore[method-assign]
    cli.init_app(app)
    return app
