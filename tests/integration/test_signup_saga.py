"""The sign-up saga when things go wrong between its two steps."""

from __future__ import annotations

import uuid

import pytest

from auth_service import accounts
from auth_service.extensions import authenticator
from auth_service.models import Account
from auth_service.models import db as auth_db
from tessera_shared.clients.profiles import Profiles
from tessera_shared.consumer import EventConsumer, Timing
from tessera_shared.errors import SERVICE_UNAVAILABLE, DomainError
from tessera_shared.outbox import STREAM
from tessera_shared.relay import OutboxRelay
from tessera_shared.sessions import Client
from tests.integration.conftest import ToUserApp
from user_service import consumers as user_consumers
from user_service.extensions import Helpers
from user_service.models import Profile
from user_service.models import db as user_db


class CutAfterCreate(ToUserApp):
    """The network between the services, cut once the profile is made: the signed create
    reaches the real user-service app; the undo cannot get through."""

    def send(self, service: str, method: str, path: str, body: bytes,
             headers: dict[str, str]) -> tuple[int, bytes]:
        if method == "DELETE":
            raise SERVICE_UNAVAILABLE("the network is down")
        return super().send(service, method, path, body, headers)


def test_a_profile_the_saga_could_not_remove_is_removed_through_the_event_stream(
        apps, service_env, monkeypatch):
    user_app, auth_app = apps
    redis = auth_app.extensions["tessera"].redis
    # A group of its own, from here on: other platforms may share this Redis and its stream.
    group = f"user-service-test-{uuid.uuid4().hex[:8]}"
    redis.xgroup_create(STREAM, group, id="$", mkstream=True)
    form = accounts.SignUp(email="race@example.com", handle="racer", display_name="Racer",
                           password="correct horse battery staple")
    with auth_app.app_context():
        auth_db.session.add(Account(id="someone-else", email=form.email,
                                    email_key=form.email))
        auth_db.session.commit()
        # Another sign-up took the email between this one's check and its insert.
        monkeypatch.setattr(accounts, "find_by_email", lambda *_: None)
        with pytest.raises(DomainError) as caught:
            accounts.Accounts(auth_db.session, Profiles(CutAfterCreate(
                user_app, service_env["INTERNAL_SECRET"].encode())), redis,
                authenticator(), accounts.SignUpPolicy(True, per_address=1000)).sign_up(
                form, Client(""))
        assert caught.value.code == "user:email_already_exists"
        OutboxRelay(auth_db.engine, redis, "auth").publish_pending()

    with user_app.app_context():
        assert user_db.session.query(Profile).filter_by(handle="racer").count() == 1
        handlers = user_consumers.handlers(Helpers.of(user_app).media)
        consumer = EventConsumer(user_db.engine, redis, group, handlers, Timing(block_ms=100))
        while consumer.run_once():
            pass
        user_db.session.expire_all()
        assert user_db.session.query(Profile).filter_by(handle="racer").count() == 0

