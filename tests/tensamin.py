"""Clients that behave like Tensamin's own: an Iota (home server) and an Omikron (relay).

They make their keys and secrets as the real ones do (Tensamin/Iota `user_manager.rs`,
`auth_connector.rs`; Tensamin/Omikron; compat-notes seeds 000 and 001) and call the registry
in the same order, through the gateway, over HTTP and the Omikron WebSocket.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import simple_websocket
from cryptography.hazmat.primitives.asymmetric.x448 import X448PrivateKey, X448PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def new_reset_token() -> str:
    """192 random bytes, base64: 256 characters, as `randomize_reset_token()`."""
    return b64(os.urandom(192))


def public_key_of(private: bytes) -> str:
    key = X448PrivateKey.from_private_bytes(private)
    return b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


@dataclass
class IotaUser:
    """What an Iota keeps for one of its users (the `.tu` file: `<user_id>::<private key>`)."""

    username: str
    private_key: bytes = field(default_factory=lambda: os.urandom(56))
    reset_token: str = field(default_factory=new_reset_token)
    user_id: str = ""

    @property
    def public_key(self) -> str:
        return public_key_of(self.private_key)

    @property
    def private_key_hash(self) -> str:
        """hex(sha256(base64(private key) as text)), as the Iota and the Frontend compute it."""
        return hashlib.sha256(b64(self.private_key).encode()).hexdigest()

    def new_keys(self) -> None:
        self.private_key = os.urandom(56)


class Iota:
    """An Iota talking to the registry's REST API."""

    def __init__(self, base_url: str, http: requests.Session | None = None) -> None:
        self.base = base_url
        self.http = http or requests.Session()
        self.iota_id = str(uuid.uuid4())

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        answer = self.http.request(method, self.base + path, json=body, timeout=10, **kwargs)
        return {"status": answer.status_code, **answer.json()}

    def register(self, user: IotaUser) -> dict[str, Any]:
        """`register/init`, then `register/complete`: the answer of the step it ended at. The
        real Iota sends its user's id as `iota_id` too (a bug the registry must take as it
        comes)."""
        started = self.call("GET", "/api/register/init")
        if started["type"] != "success":
            return started
        user.user_id = started["data"]["user_id"]
        return self.call("POST", "/api/register/complete", {
            "uuid": user.user_id, "username": user.username, "public_key": user.public_key,
            "private_key_hash": user.private_key_hash, "iota_id": user.user_id,
            "reset_token": user.reset_token})

    def create_user(self, username: str) -> IotaUser:
        user = IotaUser(username)
        done = self.register(user)
        assert done["type"] == "success", done
        return user

    def uuid_of(self, username: str) -> dict[str, Any]:
        return self.call("GET", f"/api/get/uuid/{username}")

    def profile(self, user_id: str) -> dict[str, Any]:
        return self.call("GET", f"/api/get/{user_id}")

    def migrate_user(self, user: IotaUser, new_iota_id: str) -> dict[str, Any]:
        new_token = new_reset_token()
        answer = self.call("POST", f"/api/change/iota-id/{user.user_id}", {
            "iota_id": new_iota_id, "reset_token": user.reset_token, "new_token": new_token})
        if answer["type"] == "success":
            user.reset_token = new_token
        return answer

    def delete_user(self, user: IotaUser) -> dict[str, Any]:
        return self.call("POST", f"/api/delete/{user.user_id}",
                         {"reset_token": user.reset_token})


@dataclass
class RegisteredOmikron:
    number: int
    rest_id: str
    private_key: bytes


def register_omikron(var_dir: Path, private_key: bytes | None = None) -> RegisteredOmikron:
    """`./tessera registry omikron add <public key>`, as an operator does it."""
    private_key = private_key or os.urandom(56)
    out = subprocess.run(
        [sys.executable, "-m", "tessera_launcher", "registry", "omikron", "add",
         public_key_of(private_key), "--location", "test"],
        env={**os.environ, "TESSERA_VAR_DIR": str(var_dir)}, capture_output=True, text=True,
        check=True).stdout
    number = int(out.split()[1])
    rest_id = out.strip().rsplit(" ", 1)[-1]
    return RegisteredOmikron(number, rest_id, private_key)


class OmikronSocket:
    """An Omikron's connection to `/ws/omikron`: answers pings, matches replies by id."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.ws = simple_websocket.Client.connect(url, headers=headers)
        self.pings = 0

    def send(self, kind: str, data: dict[str, Any] | None = None,
             message_id: Any = None) -> Any:
        message_id = message_id if message_id is not None else str(uuid.uuid4())
        self.ws.send(json.dumps({"id": message_id, "type": kind, "data": data or {}}))
        return message_id

    def receive(self, timeout: float = 5) -> dict[str, Any]:
        """The next frame that is not the server's ping (each is answered with `pong`)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            text = self.ws.receive(timeout=left)
            if text is None:
                break
            frame = json.loads(text)
            if frame["type"] != "ping":
                return frame
            self.pings += 1
            self.ws.send(json.dumps({"id": frame["id"], "type": "pong", "data": {}}))
        raise TimeoutError("no frame but pings arrived")

    def ask(self, kind: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        message_id = self.send(kind, data)
        frame = self.receive()
        assert frame["id"] == message_id, (frame, message_id)
        return frame

    def handshake(self, number: int, private_key: bytes) -> dict[str, Any]:
        """identification -> challenge -> challenge_response -> identification_response."""
        challenge = self.ask("identification", {"omikron": number})
        assert challenge["type"] == "challenge", challenge
        return self.ask("challenge_response", {"challenge": decrypt_challenge(
            private_key, challenge["data"]["public_key"], challenge["data"]["challenge"])})

    def closed(self, timeout: float) -> bool:
        """Whether the server hangs up within `timeout` seconds (pings ignored, unanswered)."""
        try:
            while self.ws.receive(timeout=timeout) is not None:
                pass
        except simple_websocket.ConnectionClosed:
            return True
        return False

    def close(self) -> None:
        # The server may have closed first (stack-notes G8).
        with contextlib.suppress(simple_websocket.ConnectionClosed, OSError):
            self.ws.close()


def decrypt_challenge(private_key: bytes, server_public: str, wire: str) -> str:
    """The Omikron's side: X448 with the server's key, SHA-256, AES-256-GCM."""
    shared = X448PrivateKey.from_private_bytes(private_key).exchange(
        X448PublicKey.from_public_bytes(base64.b64decode(server_public)))
    raw = base64.b64decode(wire)
    return AESGCM(hashlib.sha256(shared).digest()).decrypt(raw[:12], raw[12:], None).decode()


class Omikron:
    """An Omikron: REST questions with its id as `Authorization`, and its WebSocket."""

    def __init__(self, base_url: str, registered: RegisteredOmikron,
                 http: requests.Session | None = None) -> None:
        self.base = base_url
        self.registered = registered
        self.http = http or requests.Session()

    def iota_id_of(self, user_id: str) -> requests.Response:
        return self.http.get(f"{self.base}/api/get/iota-id/{user_id}", timeout=10,
                             headers={"Authorization": self.registered.rest_id})

    def key_matches(self, user_id: str, private_key_hash: str) -> requests.Response:
        return self.http.get(f"{self.base}/api/get/private-key-hash/{user_id}/", timeout=10,
                             headers={"Authorization": self.registered.rest_id,
                                      "PrivateKeyHash": private_key_hash})

    def connect(self, *, authenticate: bool = True) -> OmikronSocket:
        socket = OmikronSocket(self.base.replace("http://", "ws://") + "/ws/omikron",
                               headers={name: value for name, value in self.http.headers.items()
                                        if name.lower() == "x-forwarded-for"})
        if authenticate:
            answer = socket.handshake(self.registered.number, self.registered.private_key)
            assert answer["type"] == "identification_response", answer
        return socket
