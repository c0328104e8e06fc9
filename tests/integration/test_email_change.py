"""Confirming an email change against the real database and Redis: the unique address holds
even when the check before it could not see the other confirmation yet."""

from __future__ import annotations

import pytest

import auth_service
from auth_service import email_flows
from auth_service.extensions import email_flows as email_flows_of_app
from auth_service.models import Account, db, email_key
from auth_service.tokens import EMAIL_CHANGE
from tessera_shared.config import Settings
from tessera_shared.errors import DomainError
from tessera_shared.ids import uuid7
from tessera_shared.migrations import upgrade


@pytest.fixture
def app(service_env):
    settings = Settings.from_env("auth", service_env)
    upgrade(settings)
    return auth_service.create_app(settings)


def account(address: str) -> Account:
    made = Account(id=str(uuid7()), email=address, email_key=email_key(address),
                   password_hash="argon2-hash-stand-in")
    db.session.add(made)
    db.session.commit()
    return made


def test_the_second_of_two_racing_confirmations_is_a_409_not_a_crash(app, monkeypatch):
    with app.app_context():
        flows = email_flows_of_app()
        winner, loser = account("winner@example.com"), account("loser@example.com")
        token = flows.tokens.issue(EMAIL_CHANGE, {
            "user_id": loser.id, "new_email": "wanted@example.org",
            "stamp": email_flows.credential_stamp(loser), "session_id": None})
        winner.email, winner.email_key = "wanted@example.org", email_key("wanted@example.org")
        db.session.commit()  # the first confirmation has just committed ...
        # ... after the second had already looked for the address and found it free
        monkeypatch.setattr(email_flows, "find_by_email", lambda session, email: None)
        with pytest.raises(DomainError) as refused:
            flows.confirm_email_change(token, ip="192.0.2.1")
        assert (refused.value.status, refused.value.code) == (409, "user:email_already_exists")
        db.session.rollback()
        assert db.session.get(Account, loser.id).email == "loser@example.com"
