"""Second factors against the real database and Redis: what is stored, and races."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import sqlalchemy as sa

import auth_service
from auth_service.models import Account, BackupCode, db
from tessera_shared.clock import utcnow
from tessera_shared.config import Settings
from tessera_shared.errors import DomainError
from tessera_shared.ids import uuid7
from tessera_shared.migrations import upgrade


@pytest.fixture
def app(service_env):
    settings = Settings.from_env("auth", service_env)
    upgrade(settings)
    return auth_service.create_app(settings)


@pytest.fixture
def enrolled(app):
    """An account with TOTP on: its id, its TOTP secret and its backup codes."""
    two_factor = app.extensions["auth"].two_factor
    with app.app_context():
        account = Account(id=str(uuid7()), email="two@example.com", email_key="two@example.com",
                          verified_at=utcnow())
        db.session.add(account)
        db.session.commit()
        enrollment = two_factor.set_up(account)
        secret = parse_qs(urlsplit(enrollment.uri).query)["secret"][0]
        codes = two_factor.enable(account, pyotp.TOTP(secret).now(), ip="192.0.2.1",
                                  keep_session="")
        return account.id, secret, codes


def race(app, account_id: str, code: str, contenders: int = 6) -> int:
    """Prove one code from several threads at once; how many were let in."""
    two_factor = app.extensions["auth"].two_factor
    start = threading.Barrier(contenders)
    wins = []

    def contend(n: int) -> None:
        with app.app_context():
            account = db.session.get(Account, account_id)
            start.wait()
            try:
                two_factor.prove(account, code, ip=f"192.0.2.{n + 10}")
                db.session.commit()
                wins.append(n)
            except DomainError:
                db.session.rollback()

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(wins)


def test_the_totp_secret_and_backup_codes_are_not_stored_as_given(app, enrolled):
    account_id, secret, codes = enrolled
    with app.app_context():
        stored = db.session.scalar(sa.select(Account.totp_secret).where(Account.id == account_id))
        digests = set(db.session.scalars(sa.select(BackupCode.code_digest)))
    assert secret not in stored
    assert len(digests) == 10
    assert not digests & set(codes)


def test_one_totp_code_raced_from_several_requests_lets_one_in(app, enrolled):
    account_id, secret, _codes = enrolled
    totp = pyotp.TOTP(secret)
    next_step = int(time.time() // totp.interval) + 1  # enabling took the current one
    assert race(app, account_id, totp.generate_otp(next_step)) == 1


def test_one_backup_code_raced_from_several_requests_lets_one_in(app, enrolled):
    account_id, _secret, codes = enrolled
    assert race(app, account_id, codes[0]) == 1


def test_of_several_enables_raced_with_one_code_one_turns_totp_on(app):
    two_factor = app.extensions["auth"].two_factor
    with app.app_context():
        account = Account(id=str(uuid7()), email="race@example.com", email_key="race@example.com",
                          verified_at=utcnow())
        db.session.add(account)
        db.session.commit()
        enrollment = two_factor.set_up(account)
        account_id = account.id
    code = pyotp.TOTP(parse_qs(urlsplit(enrollment.uri).query)["secret"][0]).now()
    contenders = 4
    start, outcomes = threading.Barrier(contenders), []

    def contend(n: int) -> None:
        with app.app_context():
            racer = db.session.get(Account, account_id)
            start.wait()
            try:
                two_factor.enable(racer, code, ip=f"192.0.2.{n + 50}", keep_session="")
                outcomes.append("enabled")
            except DomainError as refused:
                outcomes.append(refused.code)

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("enabled") == 1
    assert set(outcomes) - {"enabled"} <= {"totp:already_enabled", "totp:invalid_code"}
    with app.app_context():
        assert db.session.get(Account, account_id).totp_enabled_at is not None
