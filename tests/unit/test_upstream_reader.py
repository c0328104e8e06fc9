"""The gateway's HTTP/1.1 response reader, fed raw bytes over a socket pair."""

import socket

import pytest

from gateway.upstream import Connection, UpstreamProtocolError


def answer(raw: bytes, *, close: bool = False, bodiless: bool = False):
    ours, theirs = socket.socketpair()
    theirs.sendall(raw)
    if close:
        theirs.shutdown(socket.SHUT_WR)  # the service has said all it will say
    connection = Connection(ours)
    return connection.request(b"GET / HTTP/1.1\r\n\r\n", b"", bodiless=bodiless), theirs


def test_a_response_with_a_length_is_read_whole_and_keeps_its_headers():
    response, _ = answer(b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\n"
                         b"Set-Cookie: b=2\r\n\r\nhello")
    assert (response.status, response.reason) == (201, "Created")
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert response.read() == b"hello"
    assert not response.will_close


def test_a_chunked_body_is_decoded_chunk_by_chunk_and_trailers_are_skipped():
    response, _ = answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n")
    assert response.length is None
    assert list(response.stream(1024)) == [b"hello", b" world"]


def test_a_body_without_length_ends_when_the_service_closes():
    response, _ = answer(b"HTTP/1.1 200 OK\r\n\r\nstreamed until close", close=True)
    assert response.will_close
    assert b"".join(response.stream(4)) == b"streamed until close"


def test_head_and_204_answers_have_no_body_whatever_their_length_says():
    head, _ = answer(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", bodiless=True)
    assert head.read() == b""
    empty, _ = answer(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert empty.read() == b""


def test_a_service_asking_to_close_is_not_pooled():
    response, _ = answer(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    assert response.will_close


@pytest.mark.parametrize("raw", [b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 abc OK\r\n\r\n",
                                 b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"])
def test_what_is_not_http_is_a_protocol_error(raw):
    with pytest.raises(UpstreamProtocolError):
        answer(raw)


def test_a_short_body_is_a_protocol_error():
    response, _ = answer(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", close=True)
    with pytest.raises(UpstreamProtocolError):
        response.read()


def test_a_closed_connection_before_any_answer_is_a_connection_error():
    with pytest.raises(ConnectionError):
        answer(b"", close=True)
