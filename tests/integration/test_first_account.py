"""The users API's first sign-up makes an admin, once, even when several race for it."""

from __future__ import annotations

import threading

import pytest

from auth_service import accounts
from auth_service.extensions import authenticator
from auth_service.models import db
from tessera_shared.clients.profiles import NewProfile, Profiles
from tessera_shared.errors import DomainError
from tessera_shared.ids import uuid7
from tessera_shared.sessions import Client
from tests.integration.conftest import ToUserApp

CLIENT = Client("192.0.2.1", "test")


def signing_up(profiles: Profiles, redis, *, is_open: bool) -> accounts.Accounts:
    """The app's sign-up use cases, with its profiles client replaced and registration set."""
    return accounts.Accounts(db.session, profiles, redis, authenticator(),
                             accounts.SignUpPolicy(is_open, per_address=1000))


def test_of_several_first_sign_ups_at_once_exactly_one_becomes_admin(apps, service_env):
    user_app, auth_app = apps
    redis = auth_app.extensions["tessera"].redis
    profiles = Profiles(ToUserApp(user_app, service_env["INTERNAL_SECRET"].encode()))
    contenders = 4
    start, outcomes = threading.Barrier(contenders), []

    def sign_up(n: int) -> None:
        form = accounts.SignUp(email=f"first{n}@example.com", handle=f"first{n}",
                               display_name=f"First {n}", password="correct horse battery")
        with auth_app.app_context():
            start.wait()
            try:
                account = signing_up(profiles, redis, is_open=False).sign_up_first_or_open(
                    form, CLIENT)
                outcomes.append(account.role)
            except DomainError as refused:
                outcomes.append(refused.code)

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Registration is closed: the first is made (as an admin), the others are refused.
    assert sorted(outcomes) == ["admin"] + ["user:registration_closed"] * (contenders - 1)


def test_a_platform_used_only_as_a_registry_already_has_its_first_user(apps, service_env):
    """A registry keyholder has a profile and no account; the users API must see them."""
    user_app, auth_app = apps
    redis = auth_app.extensions["tessera"].redis
    profiles = Profiles(ToUserApp(user_app, service_env["INTERNAL_SECRET"].encode()))
    profiles.create(NewProfile(str(uuid7()), "keyholder", "Registry User"))
    form = accounts.SignUp(email="late@example.com", handle="latecomer", display_name="Late",
                           password="correct horse battery")
    with auth_app.app_context():
        with pytest.raises(DomainError) as refused:
            signing_up(profiles, redis, is_open=False).sign_up_first_or_open(form, CLIENT)
        assert refused.value.code == "user:registration_closed"
        made = signing_up(profiles, redis, is_open=True).sign_up_first_or_open(form, CLIENT)
        assert made.role == "user"
