"""When the gateway sends a request again after an instance went down with it: over scripted
connections, one instance that drops every request unanswered and one that answers."""

from __future__ import annotations

import socket

import pytest

from gateway.balance import Upstreams
from gateway.config import GatewaySettings
from gateway.proxy import Gateway
from gateway.routes import match
from gateway.upstream import Connection, UpstreamPool
from tessera_shared.errors import DomainError

SERVICES = {f"{name.upper()}_SERVICE_URL": f"http://127.0.0.1:{9100 + n}"
            for n, name in enumerate(("user", "auth", "events"))}
ENV = {**SERVICES, "REGISTRY_SERVICE_URL": "http://127.0.0.1:9200,http://127.0.0.1:9201",
       "REDIS_URL": "redis://127.0.0.1:1/0", "INTERNAL_SECRET": "s" * 40}


class Scripted(UpstreamPool):
    """An instance whose every connection is new and either answers 200 or is closed by the
    instance before it answers (it went down with the request)."""

    def __init__(self, pool: UpstreamPool, *, answers: bool) -> None:
        super().__init__(pool.upstream, connect_timeout=1, read_timeout=1)
        self.answers = answers
        self.requests = 0
        self.peers: list[socket.socket] = []  # the answering instance's ends, kept open

    def acquire(self) -> tuple[Connection, bool]:
        return self.connect(), False

    def connect(self) -> Connection:
        ours, theirs = socket.socketpair()
        self.requests += 1
        if self.answers:
            theirs.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            self.peers.append(theirs)
        else:
            theirs.close()
        return Connection(ours)


@pytest.fixture
def gateway() -> Gateway:
    settings = GatewaySettings.from_env(ENV)
    upstreams = Upstreams(settings)
    upstreams._watching = True  # no checks: both instances stay as the test made them
    first, second = upstreams.services["registry"].all
    first.pool, second.pool = Scripted(first.pool, answers=False), Scripted(second.pool,
                                                                          answers=True)
    return Gateway(lambda environ, start: [], settings, upstreams, methods=None)


def send(gateway: Gateway, method: str, path: str) -> int:
    """The status the client gets, and which instance was asked first: the one that drops."""
    instances = gateway.upstreams.services["registry"]
    while not next(instances.in_turn()).pool.answers:  # so the dropping one's turn is next
        pass
    try:
        exchange = gateway._exchange(match(method, path), f"{method} {path} HTTP/1.1\r\n\r\n"
                                     .encode(), b"", method=method)
    except DomainError as error:
        return error.status
    exchange.release()
    return exchange.response.status


def asked(gateway: Gateway) -> list[int]:
    return [instance.pool.requests for instance in gateway.upstreams.services["registry"].all]


def test_an_idempotent_request_an_instance_went_down_with_goes_to_the_next(gateway):
    assert send(gateway, "GET", "/api/get/uuid/someone") == 200
    assert asked(gateway) == [1, 1]


def test_a_post_an_instance_went_down_with_is_not_sent_again(gateway):
    assert send(gateway, "POST", "/api/get/uuid/someone") == 502
    assert asked(gateway) == [1, 0]


def test_a_get_that_acts_is_not_sent_again(gateway):
    assert send(gateway, "GET", "/api/register/init") == 502  # it hands out a number
    assert asked(gateway) == [1, 0]
