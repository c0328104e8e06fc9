"""auth-service: accounts, passwords, second factors and sessions; every family's sign-up
lives here."""

from __future__ import annotations

from flask import Flask

from auth_service import events, internal, pages
from auth_service.email_flows import Mailroom
from auth_service.mail import Delivery, MailSender
from auth_service.models import db
from auth_service.reset_codes import ResetCodes
from auth_service.tokens import TokenStore
from auth_service.two_factor import TwoFactor
from auth_service.users_api import views as users_api
from auth_service.v0 import account, auth, mailbox, sessions, totp, users
from tessera_shared.app import add_consumer, create_service_app
from tessera_shared.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("auth")
    app, api = create_service_app(__name__, settings, db, title="Tessera auth service")
    handle = app.extensions["tessera"]
    tokens = TokenStore(handle.redis)
    app.extensions["auth.mailroom"] = Mailroom(settings, tokens, ResetCodes(handle.redis),
                                               handle.throttle)
    app.extensions["auth.two_factor"] = TwoFactor(settings.secret_key, handle.throttle, tokens,
                                                  handle.sessions)
    with app.app_context():
        handle.background.append(MailSender(db.engine, Delivery(settings)))
    add_consumer(app, db, group="auth-service", handlers=events.handlers(handle.sessions))
    api.register_blueprint(users.blp)
    api.register_blueprint(auth.blp)
    api.register_blueprint(totp.blp)
    api.register_blueprint(sessions.blp)
    api.register_blueprint(mailbox.blp)
    api.register_blueprint(account.blp)
    api.register_blueprint(users_api.blp)
    app.register_blueprint(internal.blueprint)
    app.register_blueprint(pages.blueprint)
    return app
