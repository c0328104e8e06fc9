"""The gateway's upstream connections, against a scripted service on the other end of a
socket pair: what is parsed, and when a connection may carry the next request."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from gateway.config import Upstream
from gateway.upstream import Connection, Response, UpstreamPool, UpstreamProtocolError

REQUEST = b"GET / HTTP/1.1\r\n\r\n"


class ScriptedService:
    """The far end of a connection: it answers with exactly the bytes a test scripts."""

    def __init__(self) -> None:
        ours, self.theirs = socket.socketpair()
        ours.settimeout(2)
        self.connection = Connection(ours)

    def answer(self, raw: bytes, *, close: bool = False, bodiless: bool = False) -> Response:
        self.theirs.sendall(raw)
        if close:
            self.theirs.shutdown(socket.SHUT_WR)  # the service has said all it will say
        return self.connection.request(REQUEST, b"", bodiless=bodiless)

    def received(self) -> bytes:
        return self.theirs.recv(65536)

    def close(self) -> None:
        self.connection.close()
        self.theirs.close()


@pytest.fixture
def service() -> Iterator[ScriptedService]:
    scripted = ScriptedService()
    yield scripted
    scripted.close()


class Pool(UpstreamPool):
    """A pool over scripted connections instead of new sockets."""

    def __init__(self) -> None:
        super().__init__(Upstream("test", "127.0.0.1", 1), connect_timeout=1, read_timeout=2)
        self.made: list[ScriptedService] = []

    def connect(self) -> Connection:
        service = ScriptedService()
        self.made.append(service)
        return service.connection


def test_a_response_with_a_length_is_read_whole_and_keeps_its_headers(service):
    response = service.answer(b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\n"
                      b"Set-Cookie: b=2\r\n\r\nhello")
    assert (response.status, response.reason, response.length) == (201, "Created", 5)
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert response.read() == b"hello"
    assert response.reusable


def test_a_body_split_over_many_packets_is_read_whole(service):
    service.theirs.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel")
    response = service.connection.request(REQUEST, b"")
    service.theirs.sendall(b"lo worl")
    assert response.read() == b"hello worl"


@pytest.mark.parametrize("interim", [b"HTTP/1.1 100 Continue\r\n\r\n",
                                     b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload"
                                     b"\r\n\r\n",
                                     b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n"
                                     b"\r\n"])
def test_interim_answers_are_skipped_and_the_final_one_is_the_answer(service, interim):
    response = service.answer(interim + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                        b"X-Final: 1\r\n\r\nok")
    assert (response.status, response.reason) == (200, "OK")
    assert response.headers == [("Content-Length", "2"), ("X-Final", "1")]
    assert response.read() == b"ok"
    assert response.reusable


def test_an_interim_answer_in_its_own_packet_is_skipped_too(service):
    service.theirs.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    service.theirs.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
    response = service.connection.request(REQUEST, b"")
    assert response.status == 204
    assert response.read() == b""


def test_a_chunked_body_is_decoded_and_its_trailers_are_not_headers(service):
    response = service.answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n")
    assert response.length is None
    assert b"".join(response.stream()) == b"hello world"
    assert ("X-Trailer", "1") not in response.headers
    assert response.reusable


def test_a_body_without_length_ends_when_the_service_closes_and_is_not_pooled(service):
    response = service.answer(b"HTTP/1.1 200 OK\r\n\r\nstreamed until close", close=True)
    assert b"".join(response.stream()) == b"streamed until close"
    assert response.complete
    assert not response.reusable


def test_head_and_204_answers_have_no_body_whatever_their_length_says(service):
    head = service.answer(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", bodiless=True)
    assert (head.length, head.read()) == (99, b"")
    assert head.reusable
    empty = service.answer(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert empty.read() == b""


def test_a_service_asking_to_close_is_not_pooled(service):
    response = service.answer(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    assert response.read() == b""
    assert not response.reusable


@pytest.mark.parametrize("raw", [
    b"SSH-2.0-OpenSSH\r\n\r\n",
    b"HTTP/1.1 abc OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 4x\r\n\r\nabcd",
    b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd",
    b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd",
    b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-Nul: a\x00b\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\n\r\n",  # a switch that names no protocol
])
def test_what_llhttp_refuses_is_a_protocol_error(service, raw):
    with pytest.raises(UpstreamProtocolError):
        service.answer(raw)


def test_a_bad_chunk_size_is_a_protocol_error_mid_body(service):
    response = service.answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    service.theirs.sendall(b"zz\r\nabc\r\n")
    with pytest.raises(UpstreamProtocolError):
        list(response.stream())
    assert not response.reusable


def test_a_body_shorter_than_its_length_is_a_protocol_error(service):
    response = service.answer(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                              close=True)
    with pytest.raises(UpstreamProtocolError):
        response.read()
    assert not response.reusable


def test_a_chunked_body_cut_off_is_a_protocol_error(service):
    response = service.answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
                      close=True)
    with pytest.raises(UpstreamProtocolError):
        list(response.stream())


def test_a_connection_closed_mid_head_is_a_protocol_error(service):
    with pytest.raises(UpstreamProtocolError):
        service.answer(b"HTTP/1.1 200 OK\r\nContent-Len", close=True)


def test_a_closed_connection_before_any_answer_is_a_connection_error(service):
    with pytest.raises(ConnectionError):
        service.answer(b"", close=True)


def test_a_head_that_goes_on_past_the_limit_is_a_protocol_error(service):
    with pytest.raises(UpstreamProtocolError, match="too long"):
        service.answer(b"HTTP/1.1 200 OK\r\nX-Big: " + b"b" * 140_000)


def test_a_protocol_switch_keeps_the_bytes_that_came_with_it(service):
    response = service.answer(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\n\r\n\x81\x02hi")
    assert (response.status, response.upgraded, response.overflow) == (101, True, b"\x81\x02hi")
    assert not response.reusable


def test_bytes_after_a_whole_answer_make_its_connection_unusable(service):
    response = service.answer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                      b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nevil!")
    assert response.read() == b"ok"
    assert response.headers == [("Content-Length", "2")]
    assert not response.reusable
    garbage = ScriptedService().answer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE")
    assert garbage.read() == b"ok"
    assert not garbage.reusable


def test_the_request_goes_out_whole_with_its_body(service):
    service.theirs.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
    service.connection.request(b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n", b"body")
    assert service.received() == b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody"


# The pool's one rule: a connection is reused only after an answer read to its end, that
# allows keep-alive, with nothing after it.

def exchange(pool: Pool, raw: bytes, *, read: bool = True):
    connection, reused = pool.acquire()
    service = next(s for s in pool.made if s.connection is connection)
    response = service.answer(raw)
    if read:
        response.read()
    pool.release(connection)
    return connection, reused


def test_a_connection_whose_answer_was_read_to_the_end_is_reused():
    pool = Pool()
    first, _ = exchange(pool, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    second, reused = exchange(pool, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert (second, reused) == (first, True)


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n",
])
def test_a_connection_whose_answer_was_not_read_to_the_end_is_closed(raw):
    pool = Pool()
    connection, _ = exchange(pool, raw, read=False)
    assert pool.acquire()[0] is not connection


def test_a_connection_that_timed_out_after_an_interim_answer_is_closed():
    pool = Pool()
    connection, _ = pool.acquire()
    connection.settimeout(0.2)
    with pytest.raises(TimeoutError):
        pool.made[0].answer(b"HTTP/1.1 100 Continue\r\n\r\n")
    pool.release(connection)
    assert pool.acquire()[0] is not connection


def test_a_connection_whose_stream_the_client_left_is_closed():
    pool = Pool()
    connection, _ = pool.acquire()
    response = pool.made[0].answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   b"5\r\nfirst\r\n")
    stream = response.stream()
    assert next(stream) == b"first"
    stream.close()  # the client went away
    pool.release(connection)
    assert pool.acquire()[0] is not connection


def test_a_connection_with_no_answer_yet_is_closed():
    pool = Pool()
    connection, _ = pool.acquire()
    pool.release(connection)  # e.g. sending the request failed
    assert pool.acquire()[0] is not connection


def test_an_idle_connection_the_service_closed_or_spoke_on_is_not_reused():
    pool = Pool()
    closed, _ = exchange(pool, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    pool.made[0].theirs.shutdown(socket.SHUT_WR)
    assert pool.acquire()[0] is not closed
    pool = Pool()
    spoke, _ = exchange(pool, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    pool.made[0].theirs.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nlate!")
    assert pool.acquire()[0] is not spoke


def test_a_connection_released_twice_is_closed_not_handed_out_again():
    pool = Pool()
    connection, _ = exchange(pool, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    pool.release(connection)
    assert pool.acquire()[0] is not connection
