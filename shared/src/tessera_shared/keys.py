"""Keys derived from SECRET_KEY, one per purpose, and sealing small secrets at rest with them.

Deriving (HKDF-SHA256, the purpose as `info`) means one secret to keep for the whole platform,
and a key found for one purpose says nothing about another.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def derive(secret_key: bytes, purpose: str, length: int = 32) -> bytes:
    return HKDF(hashes.SHA256(), length, salt=None, info=purpose.encode()).derive(secret_key)


class SealError(ValueError):
    """A sealed value that this key did not seal, or sealed for another owner."""


class Vault:
    """AES-256-GCM with a derived key. Each value is bound to its owner (associated data), so a
    sealed value copied onto another row does not open there."""

    def __init__(self, secret_key: bytes, purpose: str) -> None:
        self._aead = AESGCM(derive(secret_key, purpose))

    def seal(self, plaintext: str, owner: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, plaintext.encode(), owner.encode())
        return base64.b64encode(sealed).decode()

    def open(self, sealed: str, owner: str) -> str:
        raw = base64.b64decode(sealed)
        try:
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], owner.encode()).decode()
        except InvalidTag:
            raise SealError("sealed with another key or for another owner") from None
