"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives, for tests; and the
Maildir of one elsewhere (a mail sink container's), read the same way."""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
import threading
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from tessera_launcher.processes import free_port

LINK = re.compile(r"(https?://\S+\?token=([A-Za-z0-9_-]+))")


class Inbox:
    """Mail that arrived somewhere, asked for by recipient and subject."""

    def messages(self) -> list[EmailMessage]:
        raise NotImplementedError

    def received(self, to: str, subject: str | re.Pattern[str]) -> list[EmailMessage]:
        """Mails to `to` with this subject (or a subject the pattern matches in full)."""
        def fits(actual: str) -> bool:
            return (actual == subject if isinstance(subject, str)
                    else subject.fullmatch(actual) is not None)

        return [m for m in self.messages() if m["To"] == to and fits(m["Subject"])]

    def wait_for(self, to: str, subject: str | re.Pattern[str], *, count: int = 1,
                 timeout: float = 20) -> EmailMessage:
        """The `count`-th mail to `to` with this subject, once it has arrived."""
        deadline = time.monotonic() + timeout
        while len(found := self.received(to, subject)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"no mail {subject!r} for {to} within {timeout} s")
            time.sleep(0.05)
        return found[count - 1]


class Mailbox(Inbox):
    def __init__(self) -> None:
        self._messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self.port = free_port()  # aiosmtpd cannot bind port 0 itself (stack-notes G7)
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, _server: object, _session: object, envelope: object) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self._messages.append(message)
        return "250 OK"

    def start(self) -> Mailbox:
        """Listen (again, after `stop`: on the same port, keeping what came before)."""
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        """Stop listening, if it listens."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)


class MaildirInbox(Inbox):
    """A Maildir an SMTP server writes into (aiosmtpd's `Mailbox` handler), made empty here
    (the server makes one only where no folder is, and a mounted folder is one)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        for part in ("tmp", "new", "cur"):
            (folder / part).mkdir(parents=True, exist_ok=True)

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(data, policy=email.policy.default)
                for data in (message.as_bytes() for message in mailbox.Maildir(self.folder))]


def link_in(message: EmailMessage) -> tuple[str, str]:
    """The link a mail carries, and the token in it."""
    match = LINK.search(message.get_content())
    assert match, message.get_content()
    return match.group(1), match.group(2)
