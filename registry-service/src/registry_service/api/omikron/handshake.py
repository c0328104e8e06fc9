"""The Omikron handshake's cryptography, as the original registry (Omega) does it.

The server proves nothing; the Omikron proves it holds the private key of the X448 public key
registered for it: the server encrypts a random 32-character challenge for that key and
expects it back in clear. Encryption: X448 Diffie-Hellman, SHA-256 of the 56-byte shared
secret as the AES-256-GCM key, a random 12-byte nonce, no associated data; on the wire,
base64 of nonce + ciphertext-and-tag.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import string

from cryptography.hazmat.primitives.asymmetric.x448 import X448PrivateKey, X448PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tessera_shared.keys import derive

CHALLENGE_ALPHABET = string.ascii_letters + string.digits
CHALLENGE_LENGTH = 32
NONCE_BYTES = 12


def server_key(secret_key: bytes) -> X448PrivateKey:
    """The registry's long-lived X448 key, derived from SECRET_KEY: no extra secret to keep,
    and the same key in every registry process."""
    return X448PrivateKey.from_private_bytes(derive(secret_key, "tessera registry x448", 56))


def public_key_text(key: X448PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def new_challenge() -> str:
    return "".join(secrets.choice(CHALLENGE_ALPHABET) for _ in range(CHALLENGE_LENGTH))


def encrypt(own: X448PrivateKey, peer_public: bytes, text: str) -> str:
    """`text` sealed for the holder of `peer_public`; ValueError if that is not a usable X448
    public key."""
    key = hashlib.sha256(own.exchange(X448PublicKey.from_public_bytes(peer_public))).digest()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, text.encode(), None)
    return base64.b64encode(nonce + sealed).decode()
