"""Whose address a service counts: the gateway's word for it, or else the socket's peer.

Services believe `X-Forwarded-For` only with the gateway's signature over it. Anyone else who
reaches a service directly (a local user on the loopback, a container on the internal network)
is counted at the address they connect from, whatever the header says.
"""

from __future__ import annotations

import time

import pytest

from tessera_shared import internal
from tessera_shared.platform import Platform
from tests.integration.test_read_your_writes import signed_up

PEER = "127.0.0.1"  # what Werkzeug's test client connects from


def recorded_address(services, headers: dict[str, str]) -> str:
    user, browser = signed_up(services)
    client = services.apps["auth"].test_client()
    assert client.post("/v0/auth/login", json={"email": user["email"], "password": user[
        "password"]}, headers=headers).status_code == 204
    [session] = [s for s in browser.get("/v0/auth/sessions").get_json()["sessions"]
                 if s["ip"] != browser.address]
    return session["ip"]


def test_an_address_the_gateway_vouches_for_is_the_clients(services):
    secret = Platform.of(services.apps["auth"]).settings.internal_secret
    headers = {"X-Forwarded-For": "198.51.100.7", "X-Request-ID": "a" * 32,
               internal.VOUCHED: internal.vouch(secret, "198.51.100.7", "a" * 32)}
    assert recorded_address(services, headers) == "198.51.100.7"


@pytest.mark.parametrize("forged", [
    {},
    {internal.VOUCHED: "not-a-signature"},
    {internal.VOUCHED: f"{int(time.time())}.{'0' * 64}"},
    {internal.VOUCHED: "\u00b2.x"}, {internal.VOUCHED: "9" * 5000 + ".x"},
], ids=["unsigned", "malformed", "wrong-signature", "superscript-time", "huge-time"])
def test_a_forwarded_address_without_the_gateways_signature_is_ignored(services, forged):
    headers = {"X-Forwarded-For": "198.51.100.7", "X-Request-ID": "a" * 32, **forged}
    assert recorded_address(services, headers) == PEER


def test_a_vouch_for_one_address_does_not_cover_another_or_outlive_its_window(services):
    secret = Platform.of(services.apps["auth"]).settings.internal_secret
    for_other = internal.vouch(secret, "198.51.100.8", "a" * 32)
    stale = internal.vouch(secret, "198.51.100.7", "a" * 32,
                           now=time.time() - 2 * internal.MAX_SKEW)
    for vouched in (for_other, stale):
        headers = {"X-Forwarded-For": "198.51.100.7", "X-Request-ID": "a" * 32,
                   internal.VOUCHED: vouched}
        assert recorded_address(services, headers) == PEER
