"""A software passkey authenticator, as a test's security key: it answers WebAuthn options the
way a browser and an authenticator together do (client data, authenticator data, a P-256
signature), so the server's real verifier checks real ceremonies. The keys are
`cryptography`'s, the CBOR is cbor2's; each knob makes one of the answers a hostile or broken
authenticator would give."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
AAGUID = bytes(16)  # "none" attestation: no model named


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    """Discoverable P-256 credentials; `origin` is where the "browser" runs."""

    origin: str = "http://localhost:8080"
    user_verified: bool = True
    backup_eligible: bool = False
    backed_up: bool = False
    counter_step: int = 1  # 0: an authenticator that keeps no counter
    credential_id_length: int = 32
    credentials: list[Credential] = field(default_factory=list)

    def create(self, options: dict[str, Any], *, origin: str | None = None,
               rp_id: str | None = None, again: Credential | None = None,
               cose_key: bytes | None = None) -> dict[str, Any]:
        """The answer to `navigator.credentials.create(options)`: a new credential (or,
        ignoring the options' exclusions, `again` one it holds); `cose_key` replaces the
        public key's encoding."""
        rp_id = rp_id or options["rp"]["id"]
        credential = again or Credential(
            secrets.token_bytes(self.credential_id_length),
            ec.generate_private_key(ec.SECP256R1()), rp_id,
            unb64url(options["user"]["id"]))
        if again is None:
            self.credentials.append(credential)
        numbers = credential.key.public_key().public_numbers()
        cose = cose_key or cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                                        -3: numbers.y.to_bytes(32, "big")})
        attested = AAGUID + struct.pack(">H", len(credential.id)) + credential.id + cose
        auth_data = self._auth_data(credential, AT) + attested
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {"id": b64url(credential.id), "rawId": b64url(credential.id),
                "type": "public-key", "clientExtensionResults": {},
                "authenticatorAttachment": "platform",
                "response": {"clientDataJSON": b64url(client_data),
                             "attestationObject": b64url(cbor2.dumps({
                                 "fmt": "none", "attStmt": {}, "authData": auth_data})),
                             "transports": ["internal"]}}

    def get(self, options: dict[str, Any], *, origin: str | None = None,
            credential: Credential | None = None, rp_id: str | None = None) -> dict[str, Any]:
        """The answer to `navigator.credentials.get(options)`, by `credential` (else the one
        options allow, else the newest)."""
        allowed = {unb64url(c["id"]) for c in options.get("allowCredentials", [])}
        credential = credential or next(
            c for c in reversed(self.credentials) if not allowed or c.id in allowed)
        credential.sign_count += self.counter_step
        auth_data = self._auth_data(credential, 0, rp_id=rp_id)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = credential.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                        ec.ECDSA(hashes.SHA256()))
        return {"id": b64url(credential.id), "rawId": b64url(credential.id),
                "type": "public-key", "clientExtensionResults": {},
                "authenticatorAttachment": "platform",
                "response": {"clientDataJSON": b64url(client_data),
                             "authenticatorData": b64url(auth_data),
                             "signature": b64url(signature),
                             "userHandle": b64url(credential.user_handle)}}

    def _auth_data(self, credential: Credential, extra: int, *, rp_id: str | None = None
                   ) -> bytes:
        flags = (UP | extra | (UV if self.user_verified else 0)
                 | (BE if self.backup_eligible else 0) | (BS if self.backed_up else 0))
        return (hashlib.sha256((rp_id or credential.rp_id).encode()).digest()
                + bytes([flags]) + struct.pack(">I", credential.sign_count))

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge,
                           "origin": origin or self.origin, "crossOrigin": False}).encode()
