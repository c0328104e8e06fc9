"""Mail: queued in the database with the change that causes it, delivered in the background.

`queue()` adds a mail to the request's transaction, so a mail exists if and only if its cause
was committed, and a request never waits for a mail server. `MailSender` (a background thread
in each auth worker) delivers due mails to `SMTP_URL`, or writes them as `.eml` files under
`var/mail/` when no server is configured, and retries failures with a growing delay: a mail
outage delays mail, it never loses it.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import time
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy import orm

from auth_service.models import QueuedMail
from tessera_shared.background import BackgroundWorker
from tessera_shared.clock import utcnow
from tessera_shared.config import Settings
from tessera_shared.ids import uuid7
from tessera_shared.transactions import after_commit

log = logging.getLogger(__name__)
_wakeup = threading.Event()
MAX_DELAY = timedelta(hours=1)
# A sender claims the mails it is about to send for long enough to send a batch (each mail's
# SMTP exchange has ten seconds a step), and stops sending at half of it.
CLAIM_BATCH = 20
CLAIM = timedelta(minutes=10)


def queue(session: orm.Session, recipient: str, subject: str, body: str) -> None:
    session.add(QueuedMail(id=str(uuid7()), recipient=recipient, subject=subject, body=body))
    after_commit(session, _wakeup.set)


class Delivery:
    """Where mail goes: an SMTP server, or files in a folder."""

    def __init__(self, settings: Settings) -> None:
        self.sender = settings.mail_from
        self.smtp = urlsplit(settings.smtp_url) if settings.smtp_url else None
        self.folder = settings.var_dir / "mail"

    def message(self, mail: QueuedMail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.recipient
        message["Subject"] = mail.subject
        message["Message-ID"] = make_msgid(idstring=mail.id)
        # Plain ASCII stays readable as it is, links included; anything else is encoded.
        message.set_content(mail.body, cte="7bit" if mail.body.isascii() else "quoted-printable")
        return message

    def deliver(self, mail: QueuedMail) -> None:
        """Hand one mail over; raises OSError or smtplib.SMTPException on failure."""
        message = self.message(mail)
        if self.smtp is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = self.folder / f".{mail.id}.eml.part"
            partial.write_bytes(bytes(message))
            partial.rename(self.folder / f"{mail.id}.eml")  # whole files only
            return
        secure = self.smtp.scheme == "smtps"
        client_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
        port = self.smtp.port or (465 if secure else 25)
        with client_class(self.smtp.hostname, port, timeout=10) as client:
            if not secure and "starttls" in self.smtp.query:
                client.starttls(context=ssl.create_default_context())
            if self.smtp.username:
                client.login(unquote(self.smtp.username), unquote(self.smtp.password or ""))
            client.send_message(message)


class MailSender(BackgroundWorker):
    thread_name = "mail-sender"

    def __init__(self, engine: sa.Engine, delivery: Delivery, *, poll_seconds: float = 5.0,
                 first_retry: timedelta = timedelta(seconds=5)) -> None:
        super().__init__()
        self.engine = engine
        self.delivery = delivery
        self.poll_seconds = poll_seconds
        self.first_retry = first_retry

    def send_due(self) -> int:
        """Try the mails due now (up to `CLAIM_BATCH`); returns how many were delivered. A
        batch still sending when half its claim has passed leaves the rest for when the
        claim runs out, so no other sender can take a mail this one is still sending."""
        delivered = 0
        stop_at = time.monotonic() + CLAIM.total_seconds() / 2
        for mail in self._claim_due():
            if time.monotonic() > stop_at:
                break
            try:
                self.delivery.deliver(mail)
            except (OSError, smtplib.SMTPException) as error:
                self._retry_later(mail, str(error))
            else:
                with orm.Session(self.engine) as session, session.begin():
                    session.execute(sa.delete(QueuedMail).where(QueuedMail.id == mail.id))
                delivered += 1
        return delivered

    def _claim_due(self) -> list[QueuedMail]:
        """The mails due now, claimed for `CLAIM` (their next attempt moved past it) in a
        transaction of their own, so no other instance's sender takes them meanwhile: on
        PostgreSQL it skips the rows this one has locked, on SQLite it waits for this write
        and then finds them not due. A sender that dies before it is done leaves them to be
        tried again once the claim runs out."""
        now = utcnow()
        due = (sa.select(QueuedMail.id).where(QueuedMail.next_attempt_at <= now)
               .order_by(QueuedMail.next_attempt_at).limit(CLAIM_BATCH)
               .with_for_update(skip_locked=True))
        with orm.Session(self.engine, expire_on_commit=False) as session, session.begin():
            claimed = session.scalars(
                sa.update(QueuedMail).where(QueuedMail.id.in_(due.scalar_subquery()))
                .values(next_attempt_at=now + CLAIM).returning(QueuedMail),
                execution_options={"synchronize_session": False}).all()
        return sorted(claimed, key=lambda mail: mail.created_at)

    def _retry_later(self, mail: QueuedMail, error: str) -> None:
        attempts = mail.attempts + 1
        with orm.Session(self.engine) as session, session.begin():
            session.execute(sa.update(QueuedMail).where(QueuedMail.id == mail.id).values(
                attempts=attempts, last_error=error[:500],
                next_attempt_at=utcnow() + min(self.first_retry * 2 ** (attempts - 1),
                                               MAX_DELAY)))
        log.warning("mail delivery failed; will retry",
                    extra={"mail_id": mail.id, "attempts": attempts, "error": error[:500]})

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.send_due()
            except sa.exc.SQLAlchemyError as error:
                log.warning("mail sender: will retry", extra={"error": str(error)})
            _wakeup.wait(self.poll_seconds)
            _wakeup.clear()

    def wake(self) -> None:
        _wakeup.set()


def link(settings: Settings, path: str, token: str) -> str:
    return f"{settings.public_url}{path}?token={token}"


def verification_mail(settings: Settings, token: str) -> tuple[str, str]:
    return "Verify your email", (
        "Welcome to Tessera!\n\nConfirm that this address is yours by opening this link "
        f"within an hour:\n\n{link(settings, '/verify-email', token)}\n\n"
        "If you did not sign up, you can ignore this mail.\n")


def reset_mail(settings: Settings, token: str) -> tuple[str, str]:
    return "Reset your password", (
        "Someone (hopefully you) asked to reset the password of the Tessera account with this "
        f"address. Choose a new one within 15 minutes here:\n\n"
        f"{link(settings, '/reset-password', token)}\n\n"
        "If it was not you, ignore this mail: your password stays as it is.\n")


def reset_id_mail(settings: Settings, token: str) -> tuple[str, str]:
    """The user API's reset: its clients post the id; a person can open the link."""
    return "Reset your password", (
        "Someone (hopefully you) asked to reset the password of the Tessera account with this "
        "address. Within 15 minutes, give your app this reset id:\n\n"
        f"{token}\n\nor choose a new password here:\n\n"
        f"{link(settings, '/reset-password', token)}\n\n"
        "If it was not you, ignore this mail: your password stays as it is.\n")


def email_change_mail(settings: Settings, token: str) -> tuple[str, str]:
    return "Confirm your email change", (
        "Confirm that your Tessera account should use this address from now on by opening "
        f"this link within 15 minutes:\n\n{link(settings, '/confirm-email-change', token)}\n\n"
        "If you did not ask for this, ignore this mail.\n")



def email_changed_mail(settings: Settings, new_email: str, token: str) -> tuple[str, str]:
    return "Your Tessera email address changed", (
        f"Your Tessera account now uses {new_email} instead of this address.\n\n"
        "If that was you, there is nothing to do. If it was not, open this link within a "
        "week: it moves the account back to this address and signs out every session. Then "
        "reset your password (\"Forgot password\" on the sign-in page).\n\n"
        f"{link(settings, '/report-email-change', token)}\n")


def password_changed_mail(ip: str) -> tuple[str, str]:
    return "Your Tessera password changed", (
        "The password of your Tessera account was changed just now, from the address "
        f"{ip or 'unknown'}, and every other session was signed out.\n\n"
        "If that was you, there is nothing to do. If it was not, reset your password now "
        "(\"Forgot password\" on the sign-in page); that ends every session.\n")


def sign_in_provider_mail(provider: str, ip: str, *, linked: bool) -> tuple[str, str]:
    """Told to the owner whenever a provider account is linked to or unlinked from theirs."""
    change = "linked to" if linked else "unlinked from"
    return _way_in_mail(f"A {provider} account", f"A {provider} account", change, ip,
                        "the linked accounts")


def passkey_mail(name: str, ip: str, *, added: bool) -> tuple[str, str]:
    """Told to the owner whenever a passkey is added to or removed from the account."""
    change = "added to" if added else "removed from"
    return _way_in_mail("A passkey", f"The passkey \"{name}\"", change, ip, "the passkeys")


def _way_in_mail(subject: str, what: str, change: str, ip: str,
                 settings: str) -> tuple[str, str]:
    """A way to sign in came or went: what to do if it was not the owner."""
    return f"{subject} was {change} your Tessera account", (
        f"{what} was {change} your Tessera account just now, from the address "
        f"{ip or 'unknown'}.\n\n"
        "If that was you, there is nothing to do. If it was not, reset your password now "
        "(\"Forgot password\" on the sign-in page), which ends every session, then look at "
        f"{settings} in your settings.\n")


def second_factor_mail(change: str, ip: str) -> tuple[str, str]:
    """Told to the owner whenever the account's second factor changes."""
    return "Your two-factor authentication changed", (
        f"Two-factor authentication of your Tessera account was {change} just now, from the "
        f"address {ip or 'unknown'}.\n\n"
        "If that was you, there is nothing to do. If it was not, someone has your session "
        "and password: reset your password now (\"Forgot password\" on the sign-in page); "
        "that ends every session.\n")


def reset_code_mail(code: str) -> tuple[str, str]:
    # The code leads the subject, as the users API's original mails it: visible in a preview.
    return f"{code} is your code to reset your Tessera password", (
        "Someone (hopefully you) asked to reset the password of the Tessera account with this "
        f"address. Enter this code within 30 minutes:\n\n    {code}\n\n"
        "If it was not you, ignore this mail: your password stays as it is.\n")
