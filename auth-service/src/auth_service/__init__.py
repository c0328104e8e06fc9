"""auth-service: accounts, passwords, second factors and sessions; every family's sign-up
lives here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from auth_service import cli, consumers, internal
from auth_service.accounts import Accounts, SignUpPolicy
from auth_service.api.user_api import views as user_api
from auth_service.api.users_api import views as users_api
from auth_service.api.v0 import account, auth, mailbox, oauth, passkeys, sessions, totp, users
from auth_service.authentication import Authenticator
from auth_service.email_flows import EmailFlows
from auth_service.extensions import UseCases
from auth_service.mail import Delivery, MailSender
from auth_service.models import db
from auth_service.passkeys import Passkeys
from auth_service.reset_codes import ResetCodes
from auth_service.social import SocialSignIn
from auth_service.tokens import TokenStore
from auth_service.two_factor import TwoFactor
from tessera_shared.app import add_consumer, create_service_app
from tessera_shared.clients.profiles import Profiles
from tessera_shared.config import Settings
from tessera_shared.context import request_id
from tessera_shared.platform import Platform

if TYPE_CHECKING:
    from auth_service.providers import Provider


def identity_providers(app: Flask, settings: Settings) -> dict[str, Provider]:
    """Google and GitHub, where configured. Their module is imported only then: authlib and
    requests weigh ~16 MiB in every auth process that would never use them."""
    if not (settings.oauth.google or settings.oauth.github):
        return {}
    from auth_service import providers  # noqa: PLC0415

    return providers.configured(app, settings)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("auth")
    app, api = create_service_app(__name__, settings, db, title="Tessera auth service")
    platform = Platform.of(app)
    tokens = TokenStore(platform.redis, platform.throttle)
    two_factor = TwoFactor(db.session, settings.secret_key, platform.throttle, tokens,
                           platform.sessions)
    authenticator = Authenticator(db.session, platform.sessions, platform.throttle, two_factor)
    profiles = Profiles(platform.internal, request_id)
    accounts = Accounts(db.session, profiles, platform.redis, authenticator,
                        SignUpPolicy(settings.registration_open, settings.sign_ups_per_address))
    UseCases(
        accounts=accounts,
        authenticator=authenticator,
        email_flows=EmailFlows(settings, tokens, ResetCodes(platform.redis), authenticator,
                               profiles),
        passkeys=Passkeys(db.session, settings.passkeys, tokens, platform.throttle,
                          authenticator),
        social=SocialSignIn(identity_providers(app, settings), tokens, accounts,
                            authenticator),
        two_factor=two_factor,
    ).init_app(app)
    with app.app_context():
        platform.background.append(MailSender(db.engine, Delivery(settings)))
    add_consumer(app, group="auth-service", handlers=consumers.handlers(platform))
    api.register_blueprint(users.blp)
    api.register_blueprint(auth.blp)
    api.register_blueprint(totp.blp)
    api.register_blueprint(passkeys.blp)
    api.register_blueprint(oauth.blp)
    api.register_blueprint(sessions.blp)
    api.register_blueprint(mailbox.blp)
    api.register_blueprint(account.blp)
    api.register_blueprint(users_api.blp)
    api.register_blueprint(user_api.blp)
    app.register_blueprint(internal.blueprint)
    cli.init_app(app)
    return app
