"""Live streams held by the gateway (gunicorn, gevent) and fed from a real Redis, handed over
by a stand-in events-service that says what each stream gets (tests/integration/upstream_app).
The real events-service's handoffs are tested in test_live_stream.py, the whole chain in
tests/e2e/test_v0_action_logs.py."""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import Iterator

import httptools
import pytest
import redis
import requests

from tessera_shared.live import CHANNEL, EVERY_ENTRY, Entry
from tessera_shared.sessions import Client, SessionStore
from tests.integration.test_gateway import Stack
from tests.integration.upstream_app import replay_id


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("gateway-live"), redis_url)
    yield running
    running.stop()


def entry(*tags: str, public: bool = True, size: int = 0) -> Entry:
    """An entry whose frames say which one a stream got."""
    entry_id = str(uuid.uuid4())
    padding = "x" * size
    return Entry(entry_id, frozenset({EVERY_ENTRY, *tags}),
                 f"id: {entry_id}\ndata: full{padding}\n\n".encode(),
                 f"id: {entry_id}\ndata: public{padding}\n\n".encode() if public else None)


def publish(redis_client: redis.Redis, *entries: Entry) -> None:
    for one in entries:
        redis_client.publish(CHANNEL, one.encode())


class Reader:
    """One open stream, its answer parsed by llhttp as it comes, so that every byte the
    gateway writes (by gunicorn or straight from its feed) must be well-formed HTTP."""

    def __init__(self, stack: Stack, query: str = "", headers: str = "",
                 cookie: str | None = None, receive_buffer: int | None = None,
                 version: str = "HTTP/1.1") -> None:
        self.sock = socket.socket()
        self.sock.settimeout(10)
        if receive_buffer:  # before connecting, or the kernel will already have grown it
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.connect(("127.0.0.1", stack.port))
        if cookie:
            headers += f"Cookie: session_id={cookie}\r\n"
        self.sock.sendall(f"GET /v0/eventstream/actions?{query} {version}\r\nHost: t\r\n"
                          f"{headers}\r\n".encode())
        self.parser = httptools.HttpResponseParser(self)
        self.seen = bytearray()  # the body, de-chunked
        self.complete = False
        self.until(b": connected")

    def on_body(self, body: bytes) -> None:
        self.seen += body

    def on_message_complete(self) -> None:
        self.complete = True

    def _receive(self) -> None:
        data = self.sock.recv(1 << 20)
        assert data, f"the connection closed mid-stream: {self.seen[-300:]!r}"
        self.parser.feed_data(data)

    def until(self, wanted: bytes) -> bytearray:
        searched = 0
        while self.seen.find(wanted, searched) < 0:
            assert not self.complete, f"the stream ended before {wanted!r}"
            searched = max(0, len(self.seen) - len(wanted))
            self._receive()
        return self.seen

    def ends(self) -> bytearray:
        """Everything else the stream sends before it ends."""
        while not self.complete:
            self._receive()
        return self.seen

    def close(self) -> None:
        self.sock.close()


def ids_in(body: bytearray) -> list[bytes]:
    return re.findall(rb"^id: (\S+)$", body, re.MULTILINE)


def open_streams(stack: Stack) -> float:
    metrics = requests.get(f"{stack.url}/metrics", timeout=5).text
    found = re.search(r"^tessera_gateway_live_streams (\S+)$", metrics, re.MULTILINE)
    return float(found[1]) if found else 0.0


def eventually(check, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.02)


def signed_in(redis_url: str, role: str = "user") -> tuple[SessionStore, str, str]:
    sessions = SessionStore(redis.Redis.from_url(redis_url))
    user_id = str(uuid.uuid4())
    token, _ = sessions.create(user_id, Client("10.0.0.1", "test"), remember_me=False, role=role)
    return sessions, token, user_id


# The next three run first, in this order: each leaves no stream held for the next to count.
def test_closed_streams_give_their_subscription_back(stack, redis_client):
    def held_after_a_write() -> float:  # a gone client is found out by the next write to it
        publish(redis_client, entry())
        return open_streams(stack)

    # First in the module: a reader of a filtered stream that gets no entries is found out
    # gone only at its next keep-alive, up to 15 s later.
    assert open_streams(stack) == 0
    readers = [Reader(stack) for _ in range(3)]
    assert open_streams(stack) == 3
    for reader in readers:
        reader.close()
    eventually(lambda: held_after_a_write() == 0)


def test_a_refusal_is_passed_on_and_holds_nothing(stack):
    answer = requests.get(f"{stack.url}/v0/eventstream/actions?refuse=1", timeout=5)
    assert answer.status_code == 400
    assert answer.json() == {"message": "no such filter"}
    assert open_streams(stack) == 0  # the test before left none


def test_head_holds_nothing_and_no_handoff_reaches_the_client(stack):
    answer = requests.head(f"{stack.url}/v0/eventstream/actions", timeout=5)
    assert answer.status_code == 200
    assert not any(name.lower().startswith("x-tessera-") for name in answer.headers)
    assert open_streams(stack) == 0


def test_entries_stored_while_the_replay_is_read_arrive_once(stack):
    replayed, stored_meanwhile = replay_id(1), str(uuid.uuid4())
    reader = Reader(stack, f"pages=1&publish={replayed},{stored_meanwhile}",
                    f"Last-Event-ID: {replay_id(0)}\r\n")
    seen = reader.until(stored_meanwhile.encode())
    assert ids_in(seen) == [replayed.encode(), stored_meanwhile.encode()]  # not twice
    reader.close()


def test_a_stream_gets_public_frames_of_the_entries_it_requires_and_nothing_else(
        stack, redis_client):
    ann = f"actor:{uuid.uuid4()}"
    reader = Reader(stack, f"required={ann}")
    private, other, wanted = entry(ann, public=False), entry("actor:bob"), entry(ann)
    publish(redis_client, private, other, wanted)
    seen = reader.until(wanted.id.encode())
    assert b"data: public\n" in seen
    assert private.id.encode() not in seen
    assert other.id.encode() not in seen
    reader.close()


def test_an_http_1_0_reader_gets_the_stream_unchunked(stack, redis_client):
    reader = Reader(stack, version="HTTP/1.0")
    one = entry()
    publish(redis_client, one)
    reader.until(f"id: {one.id}\ndata: public\n\n".encode())
    lines = bytes(reader.seen).split(b"\n")
    assert all(line == b"" or line.startswith((b":", b"id: ", b"data: ")) for line in lines)
    reader.close()


def test_one_subscription_per_worker_feeds_every_stream(stack, redis_client):
    before = redis_client.pubsub_numsub(CHANNEL)[0][1]
    readers = [Reader(stack) for _ in range(5)]
    assert redis_client.pubsub_numsub(CHANNEL)[0][1] - before <= 1  # 0 if it had one already
    one = entry()
    publish(redis_client, one)
    for reader in readers:
        reader.until(one.id.encode())
        reader.close()


def test_the_replay_comes_page_by_page_in_order_before_live_entries(stack, redis_client):
    reader = Reader(stack, "pages=3", f"Last-Event-ID: {replay_id(0)}\r\n")
    reader.until(b"data: page 3")
    live = entry()
    publish(redis_client, live)
    seen = reader.until(live.id.encode())
    assert [int(n) for n in re.findall(rb"data: page (\d+)", seen)] == [1, 2, 3]
    reader.close()


def test_the_viewer_gets_full_frames_while_the_session_holds(stack, redis_client, redis_url):
    _, token, user_id = signed_in(redis_url)
    reader = Reader(stack, f"viewer={user_id}:user&full_with=actor:{user_id}", cookie=token)
    own, others = entry(f"actor:{user_id}", public=False), entry("actor:someone-else")
    publish(redis_client, own, others)
    seen = reader.until(others.id.encode())
    assert f"id: {own.id}\ndata: full\n".encode() in seen
    assert f"id: {others.id}\ndata: public\n".encode() in seen
    reader.close()


@pytest.mark.parametrize("change", ["logout", "demotion"])
def test_a_stream_whose_session_ended_or_changed_rights_ends_before_showing_more(
        stack, redis_client, redis_url, change):
    role = "admin" if change == "demotion" else "user"
    sessions, token, user_id = signed_in(redis_url, role)
    reader = Reader(stack, f"viewer={user_id}:{role}&full_with={EVERY_ENTRY}", cookie=token)
    if change == "logout":
        sessions.revoke(token)
    else:
        sessions.set_role(user_id, "user")
    secret = entry(f"actor:{uuid.uuid4()}", public=False)
    publish(redis_client, secret)
    assert secret.id.encode() not in reader.ends()


def test_a_reader_that_stops_reading_is_cut_off_and_holds_no_one_back(stack, redis_client):
    stalled, reading = Reader(stack, receive_buffer=4096), Reader(stack)
    burst = [entry(size=16384) for _ in range(1500)]  # past the queue and the socket buffers
    for start in range(0, len(burst), 100):  # paced, as Redis cuts off a subscriber far behind
        publish(redis_client, *burst[start:start + 100])
        reading.until(burst[start + 99].id.encode())
    sent = [one.id.encode() for one in burst]
    assert ids_in(reading.seen) == sent
    reading.close()
    got = ids_in(stalled.ends())  # it ends: the client is to reconnect with Last-Event-ID
    assert got == sent[:len(got)]  # what it did get: in order, with nothing left out
    assert len(got) < len(sent)
    stalled.close()
