"""The users API's first sign-up makes an admin, once, even when several race for it."""

from __future__ import annotations

import threading

import pytest

from auth_service import accounts
from auth_service.models import db
from tessera_shared.errors import DomainError
from tessera_shared.ids import uuid7
from tessera_shared.profiles import Profiles
from tests.integration.conftest import ToUserApp


def test_of_several_first_sign_ups_at_once_exactly_one_becomes_admin(apps, service_env):
    user_app, auth_app = apps
    redis = auth_app.extensions["tessera"].redis
    profiles = Profiles(ToUserApp(user_app, service_env["INTERNAL_SECRET"].encode()))
    contenders = 4
    start, outcomes = threading.Barrier(contenders), []

    def sign_up(n: int) -> None:
        form = accounts.SignUp(email=f"first{n}@example.com", handle=f"first{n}",
                               display_name=f"First {n}", password="correct horse battery",
                               ip="192.0.2.1", user_agent="test")
        with auth_app.app_context():
            start.wait()
            try:
                account = accounts.sign_up_first_or_open(db.session, profiles, redis, form,
                                                         registration_open=False)
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
    profiles.create(str(uuid7()), "keyholder", "Registry User")
    form = accounts.SignUp(email="late@example.com", handle="latecomer", display_name="Late",
                           password="correct horse battery", ip="192.0.2.1", user_agent="test")
    with auth_app.app_context():
        with pytest.raises(DomainError) as refused:
            accounts.sign_up_first_or_open(db.session, profiles, redis, form,
                                           registration_open=False)
        assert refused.value.code == "user:registration_closed"
        made = accounts.sign_up_first_or_open(db.session, profiles, redis, form,
                                              registration_open=True)
        assert made.role == "user"
