"""The gateway never hands one client's answer to another, whatever a hostile client sends.

Every hostile shape is sent on a raw socket; then clients signed in as different users, and
anonymous ones, ask every service something whose answer only they should get. Services echo
the `X-Request-ID` they were sent, so an answer meant for another request shows at once.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httptools
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import RunningPlatform, new_user, signed_in, unique, visitor


@dataclass
class Witness:
    """A signed-in user who knows what their own answers look like."""

    handle: str
    user_id: str
    client: requests.Session

    @property
    def cookie(self) -> str:
        return f"session_id={self.client.cookies['session_id']}"


def ask(client: requests.Session, url: str) -> requests.Response:
    """A GET whose answer must carry the request id it was sent with."""
    request_id = uuid.uuid4().hex
    response = client.get(url, headers={"X-Request-ID": request_id}, timeout=10)
    assert response.headers.get("X-Request-ID") == request_id, (
        f"GET {url} was answered with another request's answer: {response.status_code} "
        f"{response.text[:200]}")
    return response


def check_own_answers(platform: RunningPlatform, witnesses: list[Witness],
                      taken_handle: str) -> None:
    """Each witness, and an anonymous client, gets exactly their own answer from each service."""
    url = platform.url
    anonymous = visitor()
    for witness in witnesses:
        me = ask(witness.client, f"{url}/v0/user/me")                            # user
        assert me.status_code == 200
        assert (me.json()["id"], me.json()["handle"]) == (witness.user_id, witness.handle)
        sessions = ask(witness.client, f"{url}/v0/auth/sessions")                # auth
        assert sessions.status_code == 200
        assert ask(witness.client, f"{url}/v0/action-logs?limit=1").status_code == 200  # events
        registry = ask(anonymous, f"{url}/api/get/uuid/{witness.handle}")       # registry
        assert registry.json()["data"]["user_id"] == witness.user_id
    free = ask(anonymous, f"{url}/v0/users/handle/{unique('free')}/available")
    assert free.json() == {"available": True}
    taken = ask(anonymous, f"{url}/v0/users/handle/{taken_handle}/available")
    assert taken.json() == {"available": False}
    assert ask(anonymous, f"{url}/v0/user/me").status_code == 401


@pytest.fixture(scope="module")
def log_start(platform: RunningPlatform) -> dict[Path, int]:
    """How far each process's log went before this module's attacks began."""
    return {path: path.stat().st_size for path in (platform.var_dir / "log").glob("*.log")}


@pytest.fixture(scope="module")
def witnesses(platform: RunningPlatform, log_start: dict[Path, int]) -> list[Witness]:
    signed = [signed_in(platform) for _ in range(3)]
    return [Witness(user["handle"], user_id, client) for user, client, user_id in signed]


def raw_exchange(platform: RunningPlatform, data: bytes, *, timeout: float = 5.0,
                 half_close: bool = True) -> bytes:
    """Send bytes as they are, then read whatever comes back until the gateway closes (or
    `timeout` passes)."""
    port = int(platform.url.rsplit(":", 1)[1])
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        deadline = time.monotonic() + timeout
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)  # nothing more will come: the gateway needn't wait
            while time.monotonic() < deadline:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except OSError:
            pass  # the gateway refused by closing, perhaps before it had read everything
    return received


def final_statuses(answer: bytes) -> list[int]:
    """The status of every final (non-1xx) answer in what a raw socket received, looked for
    anywhere in it (an answer's body is not followed by a line break)."""
    return [int(code) for code in re.findall(rb"HTTP/1\.[01] ([2-5]\d\d) ", answer)]


class Answers:
    """Answers read off a raw socket, parsed by llhttp."""

    def __init__(self, raw: bytes) -> None:
        self.bodies: list[bytes] = []
        self.request_ids: list[str] = []
        parser = httptools.HttpResponseParser(self)
        parser.feed_data(raw)

    def on_message_begin(self) -> None:
        self.bodies.append(b"")

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"x-request-id":
            self.request_ids.append(value.decode())

    def on_body(self, body: bytes) -> None:
        self.bodies[-1] += body


def request(method: str, path: str, *headers: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# One path of each service, for GET and for POST.
SERVICE_PATHS = {
    "user": ("/v0/users/handle/anyone/available", "/v0/users/handle/anyone/available"),
    "auth": ("/v0/auth/sessions", "/v0/auth/login"),
    "registry": ("/api/get/uuid/anyone", "/api/register/init"),
    "events": ("/v0/action-logs?limit=1", "/v0/action-logs"),
}


@pytest.mark.parametrize("service", sorted(SERVICE_PATHS))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_expect_100_continue_leaves_no_answer_behind_for_the_next_client(
        platform, witnesses, service, method):
    get_path, post_path = SERVICE_PATHS[service]
    body = b'{"email":"nobody@example.com","password":"wrong password here"}'
    path = get_path if method == "GET" else post_path
    sent = request(method, path, "Expect: 100-continue", "Content-Type: application/json",
                   f"Content-Length: {len(body)}", f"X-Forwarded-For: {unique_address()}",
                   body=body)
    answer = raw_exchange(platform, sent)
    assert len(final_statuses(answer)) == 1, answer[:500]
    assert final_statuses(answer)[0] < 500, answer[:500]
    check_own_answers(platform, witnesses, witnesses[0].handle)


def unique_address() -> str:
    octets = uuid.uuid4().bytes[:3]
    return "10.{}.{}.{}".format(*octets)


# Malformed framing: the gateway's server must refuse each with a 4xx or by closing, and
# nothing of it may reach a service's pooled connection.
HOSTILE_REQUESTS = {
    "length and chunked": request("POST", "/v0/auth/login", "Content-Length: 4",
                                  "Transfer-Encoding: chunked", body=b"0\r\n\r\n"),
    "two different lengths": request("POST", "/v0/auth/login", "Content-Length: 4",
                                     "Content-Length: 40", body=b"abcd"),
    "a length that is not a number": request("POST", "/v0/auth/login", "Content-Length: 4x",
                                             body=b"abcd"),
    "a negative length": request("POST", "/v0/auth/login", "Content-Length: -1"),
    "an obsolete folded header": request("GET", "/v0/user/me", "X-Folded: one",
                                         " two"),
    "a bad chunk size": request("POST", "/v0/auth/login", "Transfer-Encoding: chunked",
                                body=b"zz\r\nabc\r\n0\r\n\r\n"),
    "chunked, then identity": request("POST", "/v0/auth/login",
                                      "Transfer-Encoding: chunked, identity",
                                      body=b"0\r\n\r\n"),
    "a request line over the limit": request("GET", "/v0/users/handle/" + "a" * 9000
                                             + "/available"),
    "a header over the limit": request("GET", "/v0/user/me", "X-Big: " + "b" * 9000),
    "too many headers": request("GET", "/v0/user/me",
                                *(f"X-Many-{i}: {i}" for i in range(150))),
    "a bare LF": b"GET /v0/user/me HTTP/1.1\nHost: x\n\n",
    "a space before the colon": request("GET", "/v0/user/me", "Host : x"),
    "HTTP/0.9": b"GET /v0/user/me\r\n\r\n",
    "an absolute-form target": request("GET", "http://evil.example/v0/user/me"),
    "a smuggled second request in a chunk": request(
        "POST", "/v0/auth/login", "Transfer-Encoding: chunked",
        body=b"0\r\n\r\nGET /v0/user/me HTTP/1.1\r\nHost: x\r\n\r\n"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_REQUESTS))
def test_malformed_framing_is_refused_and_leaves_nothing_for_anyone_else(platform, witnesses,
                                                                       name):
    answer = raw_exchange(platform, HOSTILE_REQUESTS[name])
    for status in final_statuses(answer):
        assert status < 500, answer[:500]
    check_own_answers(platform, witnesses, witnesses[0].handle)


def test_pipelined_requests_of_two_users_are_answered_in_order_each_with_its_own(
        platform, witnesses):
    order = [witnesses[0], witnesses[1], witnesses[0]]
    request_ids = [f"pipelined-{uuid.uuid4().hex}" for _ in order]
    sent = b"".join(request("GET", "/v0/user/me", f"Cookie: {witness.cookie}",
                            f"X-Request-ID: {request_id}")
                    for witness, request_id in zip(order, request_ids, strict=True))
    answers = Answers(raw_exchange(platform, sent))
    assert answers.request_ids == request_ids
    assert [json.loads(body)["handle"] for body in answers.bodies] == [w.handle for w in order]
    check_own_answers(platform, witnesses, witnesses[0].handle)


def test_a_client_that_hangs_up_mid_body_sends_nothing_on(platform, witnesses):
    """A truncated body must never reach a service as a whole one: here what did arrive is
    valid JSON (trailing spaces), which the service would have applied."""
    witness = witnesses[2]
    bio_before = ask(witness.client, f"{platform.url}/v0/user/me").json().get("bio")
    body = b'{"bio":"written by half a request"}' + b" " * 64
    sent = request("PATCH", "/v0/user/me", f"Cookie: {witness.cookie}",
                   "Content-Type: application/json", f"Content-Length: {len(body) + 100}",
                   body=body)
    answer = raw_exchange(platform, sent)
    for status in final_statuses(answer):
        assert 400 <= status < 500, answer[:500]
    assert ask(witness.client, f"{platform.url}/v0/user/me").json().get("bio") == bio_before
    check_own_answers(platform, witnesses, witness.handle)


def test_a_body_in_a_transfer_coding_the_gateway_does_not_decode_is_refused(platform,
                                                                            witnesses):
    """`gzip, chunked` would reach the service de-chunked but still zipped, read as the body."""
    witness = witnesses[2]
    bio_before = ask(witness.client, f"{platform.url}/v0/user/me").json().get("bio")
    chunk = b'{"bio":"sent as gzip"}'
    sent = request("PATCH", "/v0/user/me", f"Cookie: {witness.cookie}",
                   "Content-Type: application/json", "Transfer-Encoding: gzip, chunked",
                   body=b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk))
    answer = raw_exchange(platform, sent)
    assert final_statuses(answer) == [400], answer[:500]
    assert b'"code":"general:bad_request"' in answer
    assert ask(witness.client, f"{platform.url}/v0/user/me").json().get("bio") == bio_before


def test_a_client_that_vanishes_mid_answer_leaves_no_half_read_connection(platform, witnesses):
    """A client reading a stream and going away: the stream's upstream connection is closed,
    never pooled half-read."""
    port = int(platform.url.rsplit(":", 1)[1])
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(request("GET", "/v0/eventstream/actions"))
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    check_own_answers(platform, witnesses, witnesses[0].handle)


@pytest.mark.parametrize("shape", [
    request("HEAD", "/ws/omikron", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"),
    request("GET", "/ws/omikron", "Upgrade: websocket",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"),
    b"GET /ws/omikron HTTP/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
], ids=["HEAD", "no Connection: Upgrade", "HTTP/1.0"])
def test_a_request_that_does_not_ask_properly_never_becomes_a_tunnel(platform, witnesses,
                                                                     shape):
    """Followed by a pipelined request: a tunnel would swallow it."""
    answer = raw_exchange(platform, shape + request("GET", "/v0/users/handle/x/available"))
    assert 101 not in [int(code) for code in re.findall(rb"HTTP/1\.[01] (\d{3}) ", answer)]
    check_own_answers(platform, witnesses, witnesses[0].handle)


@pytest.mark.parametrize("missing", ["Sec-WebSocket-Key", "Sec-WebSocket-Version"])
def test_an_incomplete_websocket_handshake_is_a_400_in_the_registry_envelope(platform,
                                                                            missing):
    headers = {"Upgrade": "websocket", "Connection": "Upgrade",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"}
    del headers[missing]
    answer = raw_exchange(platform, request(
        "GET", "/ws/omikron", *(f"{name}: {value}" for name, value in headers.items())))
    assert final_statuses(answer) == [400], answer[:300]
    assert b'"type":"error"' in answer


HOSTILE_SHAPES = [
    *HOSTILE_REQUESTS.values(),
    *(request(method, path, "Expect: 100-continue", "Content-Length: 2", body=b"{}")
      for get_path, post_path in SERVICE_PATHS.values()
      for method, path in (("GET", get_path), ("POST", post_path))),
]


def test_many_users_at_once_under_attack_never_get_a_foreign_answer(platform):
    users = [signed_in(platform) for _ in range(8)]
    stop = threading.Event()
    foreign: list[str] = []
    answered = [0] * len(users)

    def hammer(n: int, handle: str, client: requests.Session) -> None:
        while not stop.is_set():
            request_id = uuid.uuid4().hex
            response = client.get(f"{platform.url}/v0/user/me", timeout=10,
                                  headers={"X-Request-ID": request_id})
            if (response.headers.get("X-Request-ID") != request_id
                    or response.json().get("handle") != handle):
                foreign.append(f"{handle} got {response.status_code} {response.text[:120]}")
            answered[n] += 1

    def attack() -> None:
        while not stop.is_set():
            for shape in HOSTILE_SHAPES:
                raw_exchange(platform, shape, timeout=2)

    threads = [threading.Thread(target=hammer, args=(n, user["handle"], client))
               for n, (user, client, _) in enumerate(users)]
    threads.append(threading.Thread(target=attack))
    for thread in threads:
        thread.start()
    time.sleep(6)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert foreign == []
    assert all(answered), answered


def unhandled_since(sizes: dict[Path, int]) -> list[str]:
    found = []
    for path, size in sizes.items():
        with path.open("rb") as log:
            log.seek(size)
            for line in log.read().decode(errors="replace").splitlines():
                if "Traceback" in line or "Error handling request" in line:
                    found.append(f"{path.name}: {line}")
    return found


TOKENS = st.sampled_from([
    "Content-Length: 0", "Content-Length: 5", "Content-Length: 99999999999", "Content-Length: x",
    "Content-Length: 5, 5", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip, chunked",
    "Transfer-Encoding: xchunked", "Expect: 100-continue", "Expect: 200-ok",
    "Connection: close", "Connection: keep-alive, Upgrade", "Upgrade: websocket",
    "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQAAP__", "Host: evil.example", "Host:",
    "X-Forwarded-For: 1.2.3.4", "X-Tessera-Caller: auth", "Cookie: session_id=forged",
    "Origin: https://evil.example", "Te: trailers", " folded", "\tfolded", "No-Colon",
    "Bad Name: x", "X-Nul: a\x00b", "X-Del: \x7f",
])
PATHS = st.sampled_from([
    "/v0/user/me", "/v0/auth/login", "/v0/users", "/v0/users/handle/x/available",
    "/v0/eventstream/actions", "/api/get/uuid/x", "/api/register/init", "/ws/omikron",
    "/v0/action-logs", "/internal/accounts/1", "/v0/auth/%2e%2e/internal", "*", "/health-check",
    "//v0/user/me", "/v0/user/me?x=\x01",
])
RAW_REQUESTS = st.builds(
    lambda method, path, version, headers, newline, body: (
        newline.join([f"{method} {path} {version}", *headers]) + newline + newline
    ).encode("latin-1") + body,
    st.sampled_from(["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT",
                     "TRACE", "get", "G\x00T", "PRI"]),
    PATHS,
    st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.10", "http/1.1", ""]),
    st.lists(TOKENS, max_size=6),
    st.sampled_from(["\r\n", "\n", "\r"]),
    st.one_of(st.just(b""), st.binary(max_size=64),
              st.sampled_from([b"5\r\nhello\r\n0\r\n\r\n", b"0\r\n\r\n",
                               b"0\r\n\r\nGET /v0/user/me HTTP/1.1\r\nHost: x\r\n\r\n",
                               b"ffffffffffffffff\r\n", b'{"email":"a@b.c"}'])),
)


@settings(max_examples=120, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=RAW_REQUESTS)
def test_generated_raw_requests_never_break_the_gateway_or_reach_another_client(
        platform, witnesses, raw):
    answer = raw_exchange(platform, raw, timeout=3)
    for status in final_statuses(answer):
        # 501 is gunicorn's answer to a transfer coding it does not implement (RFC 9112 6.1)
        assert status < 500 or status == 501, answer[:300]
    witness = witnesses[0]
    me = ask(witness.client, f"{platform.url}/v0/user/me")
    assert me.json()["handle"] == witness.handle


def test_no_process_logged_an_unhandled_exception_during_the_attacks(log_start):
    # the module's last attack has run: all it caused is in the logs by now
    assert unhandled_since(log_start) == []


def test_a_new_user_signs_up_and_in_after_all_of_it(platform):
    user = new_user()
    assert requests.post(f"{platform.url}/v0/users", json=user, timeout=10).status_code == 201
    client = visitor()
    login = client.post(f"{platform.url}/v0/auth/login", timeout=10,
                        json={"email": user["email"], "password": user["password"]})
    assert login.status_code == 204
    assert ask(client, f"{platform.url}/v0/user/me").json()["handle"] == user["handle"]
