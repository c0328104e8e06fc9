"""user-service's profile rules, on an in-memory database."""

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from tessera_shared.clients.profiles import NewProfile
from tessera_shared.errors import DomainError
from user_service import profiles
from user_service.models import db


@pytest.fixture
def session():
    engine = sa.create_engine("sqlite://")
    db.metadata.create_all(engine)
    with orm.Session(engine) as session:
        yield session


def make(session, user_id="u1", handle="Ann"):
    profile = profiles.create(session, NewProfile(user_id, handle, "Ann"))
    session.commit()
    return profile


def test_a_handle_is_stored_as_given_and_found_in_any_case(session):
    make(session, handle="AnnE_2")
    assert profiles.by_handle(session, "aNNe_2").handle == "AnnE_2"


@pytest.mark.parametrize("handle", ["Änne", "\uff21nne", "\u0410nne", "An\u200bne", "An ne",
                                    " Anne", "Anne\n", "a" * 65, ""])
def test_a_handle_outside_the_alphabet_is_refused(session, handle):
    with pytest.raises(DomainError) as caught:
        make(session, handle=handle)
    assert caught.value.code == "user:invalid_handle"
    assert session.scalar(sa.select(sa.func.count()).select_from(profiles.Profile)) == 0


def test_a_handle_from_before_the_alphabet_is_still_found_in_any_case(session):
    session.add(profiles.Profile(id="u1", handle="ÄnnE", handle_key="änne", display_name="Ä"))
    session.commit()
    assert profiles.by_handle(session, "äNNe").handle == "ÄnnE"


def test_a_handle_differing_only_in_case_is_taken(session):
    make(session)
    with pytest.raises(DomainError) as caught:
        make(session, user_id="u2", handle="ANN")
    assert caught.value.code == "user:handle_already_exists"
    assert caught.value.status == 409


def test_creating_the_same_profile_again_is_harmless_so_callers_may_retry(session):
    first = make(session)
    assert make(session).id == first.id


def test_an_id_cannot_be_reused_for_another_handle(session):
    make(session)
    with pytest.raises(DomainError):
        make(session, handle="Bob")


def test_availability_and_deletion(session):
    assert profiles.handle_available(session, "ann")
    make(session)
    assert not profiles.handle_available(session, "ann")
    assert profiles.delete(session, "u1") is True
    session.commit()
    assert profiles.delete(session, "u1") is False
    assert profiles.handle_available(session, "ann")


def test_unknown_handles_and_ids_are_not_found(session):
    for lookup in (lambda: profiles.by_handle(session, "nobody"),
                   lambda: profiles.by_id(session, "nobody")):
        with pytest.raises(DomainError) as caught:
            lookup()
        assert caught.value.code == "user:not_found"


def test_an_update_changes_only_what_was_given(session):
    make(session)
    profiles.update(session, "u1", display_name=None, bio="Hello")
    profile = profiles.update(session, "u1", display_name="Ann B.", bio=None)
    assert (profile.display_name, profile.bio) == ("Ann B.", "Hello")
