import http.server
import secrets
import threading
import time

import pytest

from tessera_launcher.processes import free_port
from tessera_shared import internal
from tessera_shared.errors import DomainError

SECRET = b"k" * 32


def signed(method="POST", path="/internal/profiles", body=b"{}", secret=SECRET, **overrides):
    timestamp = overrides.pop("timestamp", str(int(time.time())))
    nonce = overrides.pop("nonce", secrets.token_hex(16))
    headers = {internal.CALLER: "auth", internal.TIMESTAMP: timestamp, internal.NONCE: nonce,
               internal.SIGNATURE: internal.sign(secret, internal.Call(method, path, body),
                                                 timestamp, nonce)}
    return {**headers, **overrides}


def check(redis_client, headers, method="POST", path="/internal/profiles", body=b"{}"):
    return internal.verify(SECRET, redis_client, internal.Call(method, path, body), headers)


def test_a_correctly_signed_call_names_its_caller(redis_client):
    assert check(redis_client, signed()) == "auth"


@pytest.mark.parametrize("tamper", [
    {"secret": b"wrong" * 8},                                   # wrong secret
    {"timestamp": str(int(time.time()) - 120)},                 # too old
    {"nonce": "short"},                                         # malformed
])
def test_wrong_or_stale_signatures_are_refused(redis_client, tamper):
    with pytest.raises(DomainError) as caught:
        check(redis_client, signed(**tamper))
    assert caught.value.status == 401


def test_a_signature_covers_method_path_and_body(redis_client):
    for method, path, body in (("DELETE", "/internal/profiles", b"{}"),
                               ("POST", "/internal/accounts", b"{}"),
                               ("POST", "/internal/profiles", b'{"x":1}')):
        with pytest.raises(DomainError):
            check(redis_client, signed(), method, path, body)


def test_a_replayed_call_is_refused(redis_client):
    headers = signed()
    check(redis_client, headers)
    with pytest.raises(DomainError):
        check(redis_client, headers)


def test_an_unsigned_call_is_refused(redis_client):
    with pytest.raises(DomainError):
        check(redis_client, {})


class Instance(http.server.ThreadingHTTPServer):
    """One instance of a service on loopback: it checks each call's signature as services
    do, with the nonces every instance shares in `redis`, and answers `{}` (or 401 for a
    refused signature); when `drops`, it goes down with each call it has accepted (closes
    the connection without answering)."""

    def __init__(self, redis, *, drops: bool = False) -> None:
        self.redis = redis
        self.drops = drops
        self.calls: list[str] = []
        super().__init__(("127.0.0.1", 0), InstanceHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class InstanceHandler(http.server.BaseHTTPRequestHandler):
    server: Instance

    def answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.calls.append(self.command)
        try:
            internal.verify(SECRET, self.server.redis, internal.Call(
                self.command, self.path, body), self.headers)
        except DomainError:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.server.drops:
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = answer  # noqa: N815  # the names http.server calls

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def live(redis_client):
    instance = Instance(redis_client)
    yield instance
    instance.shutdown()
    instance.server_close()


@pytest.fixture
def dropping(redis_client):
    instance = Instance(redis_client, drops=True)
    yield instance
    instance.shutdown()
    instance.server_close()


def test_calls_pass_over_an_instance_that_takes_no_connection_whatever_the_method(live):
    client = internal.InternalClient("auth", SECRET, {"user": (
        f"http://127.0.0.1:{free_port()}", live.url)})
    for method in ("GET", "POST", "GET", "POST"):  # each instance's turn comes twice
        assert client.call("user", method, "/internal/x").ok
    assert live.calls == ["GET", "POST", "GET", "POST"]


def test_an_instance_that_goes_down_with_a_call_has_it_sent_elsewhere_only_if_idempotent(
        live, dropping):
    client = internal.InternalClient("auth", SECRET, {"user": (dropping.url, live.url)})
    # The dropping instance's turn: it took the call's nonce with it, so the call is signed
    # anew for the live one, which would refuse it as a replay otherwise.
    assert client.call("user", "GET", "/internal/x").ok
    assert (dropping.calls, live.calls) == (["GET"], ["GET"])
    client.call("user", "GET", "/internal/x")  # the live one's turn
    with pytest.raises(DomainError) as caught:
        client.call("user", "POST", "/internal/x")  # it may have acted: never sent twice
    assert caught.value.status == 503
    assert (dropping.calls, live.calls) == (["GET", "POST"], ["GET", "GET"])
