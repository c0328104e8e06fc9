"""Mail delivery: a mail server outage delays mail, it never loses it."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from auth_service import mail
from auth_service.models import QueuedMail
from tessera_shared.config import Settings
from tessera_shared.db import database_url
from tessera_shared.migrations import upgrade
from tests.mailbox import Mailbox


@pytest.fixture
def settings(service_env):
    settings = Settings.from_env("auth", service_env)
    upgrade(settings)
    return settings


@pytest.fixture
def engine(settings):
    engine = sa.create_engine(database_url(settings))
    yield engine
    engine.dispose()


def queue_one(engine, recipient="ann@example.com"):
    with orm.Session(engine) as session:
        mail.queue(session, recipient, "Hello", "Plain words and a link: "
                                                "http://127.0.0.1:8080/x?token=abc\n")
        session.commit()


def queued(engine):
    with orm.Session(engine) as session:
        return session.scalars(sa.select(QueuedMail)).all()


def test_without_a_mail_server_mails_are_written_to_the_mail_folder(settings, engine):
    queue_one(engine)
    assert mail.MailSender(engine, mail.Delivery(settings)).send_due() == 1
    files = list((settings.var_dir / "mail").glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "ann@example.com"
    assert "token=abc" in files[0].read_text()  # readable as it is
    assert queued(engine) == []


def test_a_mail_waits_out_a_server_outage_and_is_delivered_once_it_is_back(settings, engine):
    box = Mailbox()
    down = mail.MailSender(engine, mail.Delivery(replace(settings, smtp_url=box.url)),
                           first_retry=timedelta(0))
    queue_one(engine)
    assert down.send_due() == 0  # nothing listens on the port yet
    (waiting,) = queued(engine)
    assert waiting.attempts == 1
    assert waiting.last_error
    box.start()
    try:
        assert down.send_due() == 1
        assert box.wait_for("ann@example.com", "Hello")["From"] == settings.mail_from
        assert queued(engine) == []
    finally:
        box.stop()


def test_a_failed_mail_is_retried_later_not_in_a_tight_loop(settings, engine):
    sender = mail.MailSender(engine, mail.Delivery(replace(
        settings, smtp_url=Mailbox().url)))
    queue_one(engine)
    sender.send_due()
    assert sender.send_due() == 0
    (waiting,) = queued(engine)
    assert waiting.attempts == 1  # not tried again before its time


class Recording(mail.Delivery):
    """The mail folder, remembering every mail handed to it; while it delivers the first,
    `other` (another instance's sender) gets its turn."""

    def __init__(self, settings: Settings, log: list[str]) -> None:
        super().__init__(settings)
        self.log = log
        self.other: mail.MailSender | None = None

    def deliver(self, queued_mail: QueuedMail) -> None:
        self.log.append(queued_mail.recipient)
        if self.other is not None:
            other, self.other = self.other, None
            other.send_due()
        super().deliver(queued_mail)


def test_two_instances_senders_never_deliver_one_mail_twice(settings, engine):
    queue_one(engine, "ann@example.com")
    queue_one(engine, "bob@example.com")
    delivered: list[str] = []
    this, that = Recording(settings, delivered), Recording(settings, delivered)
    other_engine = sa.create_engine(engine.url)
    this.other = mail.MailSender(other_engine, that)
    try:
        assert mail.MailSender(engine, this).send_due() == 2
    finally:
        other_engine.dispose()
    assert sorted(delivered) == ["ann@example.com", "bob@example.com"]
    assert queued(engine) == []
