"""user-service: profiles (handle, display name, bio, images) and their lookups."""

from __future__ import annotations

from flask import Flask

from tessera_shared.app import add_consumer, create_service_app
from tessera_shared.clients.accounts import Accounts
from tessera_shared.config import Settings
from tessera_shared.context import request_id
from tessera_shared.platform import Platform
from user_service import consumers, internal, media, storage
from user_service.api.user_api import views as user_api
from user_service.api.v0 import follows, profile_images, user_search, users
from user_service.extensions import Helpers
from user_service.models import db


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("user")
    app, api = create_service_app(__name__, settings, db, title="Tessera user service")
    platform = Platform.of(app)
    media_store = storage.from_settings(settings)
    Helpers(Accounts(platform.internal, request_id), media_store).init_app(app)
    add_consumer(app, group="user-service", handlers=consumers.handlers(media_store))
    api.register_blueprint(users.blp)
    api.register_blueprint(profile_images.blp)
    api.register_blueprint(user_search.blp)
    api.register_blueprint(follows.blp)
    api.register_blueprint(user_api.blp)
    app.register_blueprint(internal.blueprint)
    app.register_blueprint(media.blueprint)
    return app
