"""Service-to-service HTTP: `/internal/...` endpoints, HMAC-signed, with replay protection.

A request carries `X-Tessera-Caller`, `X-Tessera-Timestamp` (unix seconds), `X-Tessera-Nonce`
and `X-Tessera-Signature` = hex HMAC-SHA256(INTERNAL_SECRET, canonical string) where the
canonical string is ``METHOD \\n PATH?QUERY \\n TIMESTAMP \\n NONCE \\n sha256hex(body)``.
The receiver accepts a timestamp within `MAX_SKEW` seconds and each nonce once. The gateway
strips every `X-Tessera-*` header from clients and never routes `/internal`.

The gateway also vouches for the client address it forwards: `X-Tessera-Vouched` =
``TIMESTAMP.hex HMAC-SHA256(INTERNAL_SECRET, "client" \n ADDRESS \n REQUEST_ID \n TIMESTAMP)``.
A service believes `X-Forwarded-For` only with it, since every peer on the loopback (or on a
compose network) can reach a service directly and write any header it likes.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import redis as redis_py
import urllib3

from tessera_shared.errors import SERVICE_UNAVAILABLE, UNAUTHORIZED_INTERNAL_CALL

HEADER_PREFIX = "X-Tessera-"
CALLER, TIMESTAMP, NONCE, SIGNATURE = (HEADER_PREFIX + name for name in
                                       ("Caller", "Timestamp", "Nonce", "Signature"))
VOUCHED = HEADER_PREFIX + "Vouched"
MAX_SKEW = 30
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})  # safe to send twice


@dataclass(frozen=True)
class Call:
    """What a signature covers of a request, besides its timestamp and nonce."""

    method: str
    path: str  # with the query
    body: bytes


def _is_time(timestamp: str) -> bool:
    """Unix seconds, as we send them (isdigit alone passes "²" and digits int() refuses)."""
    return timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12


def canonical(call: Call, timestamp: str, nonce: str) -> bytes:
    return "\n".join((call.method.upper(), call.path, timestamp, nonce,
                      hashlib.sha256(call.body).hexdigest())).encode()


def sign(secret: bytes, call: Call, timestamp: str, nonce: str) -> str:
    return hmac.new(secret, canonical(call, timestamp, nonce), hashlib.sha256).hexdigest()


def verify(secret: bytes, redis: redis_py.Redis, call: Call, headers: Any) -> str:
    """Check a signed internal request; returns the calling service's name."""
    caller, timestamp = headers.get(CALLER, ""), headers.get(TIMESTAMP, "")
    nonce, signature = headers.get(NONCE, ""), headers.get(SIGNATURE, "")
    if not (caller and _is_time(timestamp) and 16 <= len(nonce) <= 64 and signature):
        raise UNAUTHORIZED_INTERNAL_CALL()
    if abs(time.time() - int(timestamp)) > MAX_SKEW:
        raise UNAUTHORIZED_INTERNAL_CALL()
    expected = sign(secret, call, timestamp, nonce)
    if not hmac.compare_digest(expected, signature):
        raise UNAUTHORIZED_INTERNAL_CALL()
    if not redis.set(f"internal_nonce:{nonce}", 1, nx=True, ex=2 * MAX_SKEW):
        raise UNAUTHORIZED_INTERNAL_CALL()  # a replay of a request already served
    return caller


def _client_signature(secret: bytes, address: str, request_id: str, timestamp: str) -> str:
    message = "\n".join(("client", address, request_id, timestamp)).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def vouch(secret: bytes, address: str, request_id: str, *, now: float | None = None) -> str:
    """The gateway's `X-Tessera-Vouched` for the client address it forwards."""
    timestamp = str(int(time.time() if now is None else now))
    return f"{timestamp}.{_client_signature(secret, address, request_id, timestamp)}"


def vouched_address(secret: bytes, headers: Any) -> str | None:
    """The `X-Forwarded-For` of a request the gateway vouches for; None for any other."""
    address, vouched = headers.get("X-Forwarded-For", ""), headers.get(VOUCHED, "")
    timestamp, _, signature = vouched.partition(".")
    if not (address and _is_time(timestamp)) or abs(time.time() - int(timestamp)) > MAX_SKEW:
        return None
    expected = _client_signature(secret, address, headers.get("X-Request-ID", ""), timestamp)
    return address if hmac.compare_digest(expected, signature) else None


@dataclass(frozen=True)
class InternalResponse:
    status: int
    data: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class InternalClient:
    """Signed JSON calls to the other services, over pooled keep-alive connections, spread
    over each service's instances in turn."""

    def __init__(self, caller: str, secret: bytes, service_urls: dict[str, tuple[str, ...]],
                 *, timeout: float = 5.0) -> None:
        self.caller = caller
        self.secret = secret
        self.service_urls = service_urls
        self.pool = urllib3.PoolManager(num_pools=8, maxsize=16, retries=False,
                                        timeout=urllib3.Timeout(connect=2.0, read=timeout))
        self._turn = itertools.count()

    def call(self, service: str, method: str, path: str, payload: Any = None,
             *, request_id: str | None = None) -> InternalResponse:
        """One call; a service that cannot be reached raises `system:service_unavailable`."""
        body = b"" if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", **self.signed(Call(method, path, body))}
        if request_id:
            headers["X-Request-ID"] = request_id
        status, data = self.send(service, method, path, body, headers)
        return InternalResponse(status, json.loads(data) if data else None)

    def signed(self, call: Call) -> dict[str, str]:
        """The headers that sign `call`, with a nonce of its own."""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        return {CALLER: self.caller, TIMESTAMP: timestamp, NONCE: nonce,
                SIGNATURE: sign(self.secret, call, timestamp, nonce)}

    def send(self, service: str, method: str, path: str, body: bytes,
             headers: dict[str, str]) -> tuple[int, bytes]:
        """The transport: one HTTP exchange with the next instance of the service. Another
        instance is tried when this one takes no connection (nothing was sent, so even a
        call that is not idempotent cannot happen twice), or drops an idempotent call
        before answering it (it went down with the call). A call sent again is signed
        again: the instance that went down may have spent its nonce, and the others share
        the record of spent nonces."""
        urls = self.service_urls[service]
        first = next(self._turn) % len(urls)
        error: urllib3.exceptions.HTTPError | None = None
        for url in urls[first:] + urls[:first]:
            if error is not None:
                headers = {**headers, **self.signed(Call(method, path, body))}
            try:
                response = self.pool.request(method, url + path, body=body or None,
                                             headers=headers)
            except urllib3.exceptions.ConnectTimeoutError as refused:  # and NewConnectionError
                error = refused
                continue
            except urllib3.exceptions.ProtocolError as dropped:
                error = dropped
                if method in IDEMPOTENT:
                    continue
                break
            except urllib3.exceptions.HTTPError as failed:
                error = failed
                break
            return response.status, response.data
        raise SERVICE_UNAVAILABLE(f"The {service} service did not answer ({error}).") from error
