"""registry-service: public keys, private-key hashes, reset tokens, Iotas and Omikrons
(the registry REST and WebSocket families)."""

from __future__ import annotations

from flask import Flask

from registry_service.models import db
from tessera_shared.app import create_service_app
from tessera_shared.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("registry")
    app, _api = create_service_app(__name__, settings, db, title="Tessera registry service")
    return app
