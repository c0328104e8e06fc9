"""The registry's sign-up saga with fakes for its remote step and its registration ids: what
is undone, and in which order, when the sign-up's unit of work rolls back."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from registry_service import keyholders
from registry_service.models import Keyholder, db
from tessera_shared.clients.profiles import NewProfile
from tessera_shared.errors import DomainError
from tessera_shared.transactions import unit_of_work


class Steps:
    """Everything the saga did outside the database, in order."""

    def __init__(self) -> None:
        self.done: list[str] = []


class FakeProfiles:
    """user-service's profiles: `create` refuses a handle it was told is taken."""

    def __init__(self, steps: Steps, taken: str = "") -> None:
        self.steps, self.taken = steps, taken

    def create(self, new: NewProfile) -> None:
        if new.handle == self.taken:
            raise DomainError("user:handle_already_exists", 409, "That handle is taken.")
        self.steps.done.append(f"profile made {new.handle}")

    def delete(self, user_id: str) -> bool:
        self.steps.done.append("profile removed")
        return True


class FakeRegistrations:
    def __init__(self, steps: Steps) -> None:
        self.steps = steps

    def claim(self, registration: str) -> int:
        self.steps.done.append("id claimed")
        return 1_000

    def reopen(self, registration: str, remaining: int) -> None:
        self.steps.done.append("id reopened")


@pytest.fixture
def session():
    engine = sa.create_engine("sqlite://")
    db.metadata.create_all(engine)  # the keys and the outbox
    with orm.Session(engine) as session:
        yield session


def sign_up(number: int, username: str, token: str) -> keyholders.SignUp:
    return keyholders.SignUp(registration=str(uuid.uuid4()), user_id=str(uuid.uuid4()),
                             number=number, username=username, public_key="key",
                             private_key_hash=None, iota_id="iota", reset_token=token)


def test_a_failed_sign_up_removes_its_profile_before_the_id_is_open_again(session):
    steps = Steps()
    profiles, registrations = FakeProfiles(steps), FakeRegistrations(steps)
    with unit_of_work(session):
        keyholders.register(session, registrations, profiles, sign_up(1, "first", "t" * 32))
    steps.done.clear()
    with pytest.raises(DomainError) as refused, unit_of_work(session):  # the same token
        keyholders.register(session, registrations, profiles, sign_up(2, "second", "t" * 32))
    assert refused.value.message == "reset_token is already in use"
    assert steps.done == ["id claimed", "profile made second", "profile removed",
                          "id reopened"]


def test_a_taken_username_gives_the_id_back_and_makes_nothing(session):
    steps = Steps()
    profiles, registrations = FakeProfiles(steps, taken="taken"), FakeRegistrations(steps)
    with pytest.raises(DomainError) as refused, unit_of_work(session):
        keyholders.register(session, registrations, profiles, sign_up(3, "taken", "u" * 32))
    assert refused.value.code == "user:handle_already_exists"
    assert steps.done == ["id claimed", "id reopened"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Keyholder)) == 0
