"""One Omikron's WebSocket (`/ws/omikron`): the handshake first, then its requests.

The Omikron names itself (`identification`), receives a challenge encrypted for its
registered X448 key, and must send it back decrypted (`challenge_response`). Before that,
anything but `ping` is answered `error_not_authenticated` and the socket closed; a wrong
answer is `error_invalid_challenge` and closed too. The server pings every 5 seconds and
hangs up after 30 seconds without hearing anything, as the original, and on a peer that has
not completed the handshake within those 30 seconds.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import time
from dataclasses import dataclass
from typing import NoReturn, Protocol

from cryptography.hazmat.primitives.asymmetric.x448 import X448PrivateKey

from registry_service.api.omikron import handshake
from registry_service.api.omikron.handlers import HANDLERS, Context, error_reply
from registry_service.api.omikron.protocol import Frame, FrameError, encode, new_id
from registry_service.models import Omikron, db
from tessera_shared.errors import DomainError
from tessera_shared.transactions import unit_of_work

log = logging.getLogger(__name__)


class Socket(Protocol):
    def receive(self, timeout: float | None = None) -> str | bytes | None: ...
    def send(self, data: str) -> None: ...
    def close(self, reason: int | None = None, message: str | None = None) -> None: ...


@dataclass(frozen=True)
class Timing:
    ping_every: float = 5.0
    idle_limit: float = 30.0


class HandshakeError(Exception):
    """The peer failed the handshake; the socket is closed."""


class OmikronConnection:
    def __init__(self, socket: Socket, server_key: X448PrivateKey, timing: Timing,
                 context: Context) -> None:
        self.socket = socket
        self.server_key = server_key
        self.timing = timing
        self.context = context
        self.omikron: Omikron | None = None
        self.challenge: str | None = None
        self.active = False

    def run(self) -> None:
        opened = heard = pinged = time.monotonic()
        try:
            while True:
                now = time.monotonic()
                if now - heard >= self.timing.idle_limit:
                    return
                if not self.active and now - opened >= self.timing.idle_limit:
                    return  # pings alone do not keep a stranger connected
                if now - pinged >= self.timing.ping_every:
                    self.socket.send(encode(new_id(), "ping"))
                    pinged = now
                    if self.active:
                        self.context.presence.touch(self.context.connection)
                wait = min(pinged + self.timing.ping_every, heard + self.timing.idle_limit)
                text = self.socket.receive(timeout=max(wait - now, 0.01))
                if text is None:
                    continue
                heard = time.monotonic()
                if (reply := self.answer(text)) is not None:
                    self.socket.send(reply)
        except HandshakeError:
            return
        finally:
            if self.active:
                self.context.presence.left(self.context.connection)
            db.session.remove()

    def answer(self, text: str | bytes) -> str | None:
        try:
            frame = Frame.parse(text)
        except FrameError:
            return encode(new_id(), "error_invalid_data")
        if frame.type == "ping":
            return frame.reply("pong")
        if frame.type == "pong":
            return None
        if not self.active:
            return self.handshake(frame)
        return self.request(frame)

    def handshake(self, frame: Frame) -> str:
        if frame.type == "identification" and self.omikron is None:
            return self.identify(frame)
        if frame.type == "challenge_response" and self.challenge is not None:
            return self.verify(frame)
        self.fail(frame.reply("error_not_authenticated"))

    def identify(self, frame: Frame) -> str:
        number = frame.data.get("omikron")
        omikron = (db.session.get(Omikron, number)
                   if isinstance(number, int) and not isinstance(number, bool)
                   and 0 < number < 2 ** 63 else None)  # what a database integer holds
        db.session.rollback()  # nothing to write; no transaction stays open meanwhile
        if omikron is None:
            self.fail(frame.reply("error_not_authenticated",
                                  {"error_type": "No Omikron is registered with that id"}))
        try:
            peer = base64.b64decode(omikron.public_key, validate=True)
        except (binascii.Error, ValueError):
            self.fail(frame.reply("error_invalid_omikron_id"))
        challenge = handshake.new_challenge()
        try:
            sealed = handshake.encrypt(self.server_key, peer, challenge)
        except ValueError:
            self.fail(frame.reply("error_invalid_public_key"))
        self.omikron, self.challenge = omikron, challenge
        return frame.reply("challenge", {"public_key": handshake.public_key_text(
            self.server_key), "challenge": sealed})

    def verify(self, frame: Frame) -> str:
        given = frame.data.get("challenge")
        if not (isinstance(given, str) and self.omikron is not None and self.challenge
                and hmac.compare_digest(given.encode(), self.challenge.encode())):
            self.fail(frame.reply("error_invalid_challenge"))
        self.active = True
        self.context.connection = self.context.presence.joined(self.omikron.number)
        return frame.reply("identification_response")

    def request(self, frame: Frame) -> str | None:
        handler = HANDLERS.get(frame.type)
        if handler is None:
            return frame.reply("error", {"error_type": "Unknown message type"})
        try:
            with unit_of_work(self.context.session):  # one request frame, one use case
                answer = handler(self.context, frame.data)
        except DomainError as error:
            kind, data = error_reply(error)
            return frame.reply(kind, data)
        except Exception:
            log.exception("omikron request failed", extra={"type": frame.type})
            return frame.reply("error_internal")
        finally:
            db.session.remove()
        return None if answer is None else frame.reply(*answer)

    def fail(self, reply: str) -> NoReturn:
        self.socket.send(reply)
        self.socket.close()
        raise HandshakeError
