"""Pooled keep-alive HTTP/1.1 connections to one service, their answers parsed by llhttp.

A request goes out in one `sendall` (head and body together when the body is small). Its
answer is parsed by llhttp, the parser of Node.js and uvicorn, through `httptools`: interim
`1xx` answers are skipped, chunked bodies come out decoded (as WSGI wants), and whatever llhttp
refuses is an `UpstreamProtocolError`, which the proxy answers with a 502.

The pool keeps one rule, in `UpstreamPool.release`: a connection goes back only after its answer
was read to the end, that answer allows keep-alive, and nothing arrived after it. Every other
connection (an error, a timeout, a client gone mid-stream, an answer cut short, a protocol
switch) is closed, so an answer can never be read as the answer to a later request. An idle
connection with anything to read (the service closed it, or sent what nobody asked for) is
closed when it is next picked.
"""

from __future__ import annotations

import socket
import time
from collections import deque
from collections.abc import Iterator

import httptools

from gateway.config import Upstream

IDLE_LIMIT = 50.0  # seconds; below the services' 75 s keep-alive, so we close first
MAX_HEAD = 64 * 1024  # bytes a service may send before the head of its answer has ended
RECEIVE_SIZE = 64 * 1024
SEND_TOGETHER = 64 * 1024  # a body up to this size is sent in the same write as its head


class UpstreamProtocolError(Exception):
    """The service answered with something that is not HTTP/1.1."""


class Response:
    """One answer on a connection: its head, then its body, as llhttp hands them over.

    The methods named `on_*` are llhttp's callbacks; the proxy reads `status`, `reason`,
    `headers` and `length`, and takes the body with `read()` or `stream()`.
    """

    def __init__(self, sock: socket.socket, *, bodiless: bool) -> None:
        self._sock = sock
        self._bodiless = bodiless  # an answer to HEAD: its head may announce a length, no body
        self._parser = httptools.HttpResponseParser(self)
        self._body: list[bytes] = []
        self._head_size = 0
        self._chunked = False
        self.status = 0
        self.reason = ""
        self.headers: list[tuple[str, str]] = []
        self.length: int | None = None  # the body's Content-Length, when it has one
        self.head_done = False  # the final (non-1xx) head has been parsed
        self.complete = False  # ... and its body has ended
        self.keep_alive = False  # the answer lets its connection carry another request
        self.upgraded = False  # 101: what follows the head is another protocol's
        self.overflow = b""  # ... and the bytes of it that came with the head
        self.trailing = False  # something arrived after the answer had ended

    @property
    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.trailing and not self.upgraded

    def on_message_begin(self) -> None:
        if self.head_done:
            self.trailing = True  # a second answer nobody asked for
        else:
            self.reason, self.headers = "", []  # a final answer after an interim one

    def on_status(self, reason: bytes) -> None:
        if not self.head_done:
            self.reason += reason.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.head_done:  # afterwards: a chunked body's trailers, or an unasked answer
            self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if self.head_done or (100 <= status < 200 and status != 101):
            return  # an interim answer (100 Continue, 103 Early Hints): the final one follows
        self.status, self.head_done = status, True
        self.keep_alive = self._parser.should_keep_alive()
        for name, value in self.headers:
            lowered = name.lower()
            if lowered == "content-length":
                self.length = int(value)  # llhttp has checked it is one number
            elif lowered == "transfer-encoding":
                self._chunked = value.lower().rstrip().endswith("chunked")
        if self._bodiless:
            self.complete = True

    def on_body(self, body: bytes) -> None:
        if self.complete:
            self.trailing = True
        else:
            self._body.append(body)

    def on_message_complete(self) -> None:
        if self.head_done:
            self.complete = True

    def receive(self) -> None:
        """Parse the next bytes the service sends; raises OSError if it goes away first."""
        data = self._sock.recv(RECEIVE_SIZE)
        if not data:
            self._end_of_stream()
            return
        if not self.head_done:
            self._head_size += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self.upgraded, self.overflow = True, data[upgrade.args[0]:]
        except httptools.HttpParserError as error:
            if not self.complete or self.status == 101:  # a switch must name its protocol
                raise UpstreamProtocolError(f"the answer is not HTTP/1.1 ({error})") from None
            self.trailing = True  # garbage after a whole answer: deliver it, drop the line
        if not self.head_done and self._head_size > MAX_HEAD:
            raise UpstreamProtocolError("the answer's head is too long")

    def _end_of_stream(self) -> None:
        if not self.head_done:
            if self._head_size == 0:  # the service closed an idle connection as we sent
                raise ConnectionResetError("the service closed the connection")
            raise UpstreamProtocolError("the service closed the connection mid-head")
        if not self.complete:
            if self.length is not None or self._chunked:
                raise UpstreamProtocolError("the body ended early")
            self.complete = True  # a body without length or chunks ends with the connection
        self.keep_alive = False

    def read(self) -> bytes:
        """The whole body."""
        while not self.complete:
            self.receive()
        return self._take()

    def stream(self) -> Iterator[bytes]:
        """The body as it arrives; raises OSError or UpstreamProtocolError if it breaks off."""
        while True:
            if data := self._take():
                yield data
            if self.complete:
                return
            self.receive()

    def _take(self) -> bytes:
        body = self._body
        if not body:
            return b""
        self._body = []
        return body[0] if len(body) == 1 else b"".join(body)


class Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.response: Response | None = None  # the answer to the last request sent

    def request(self, head: bytes, body: bytes, *, bodiless: bool = False) -> Response:
        """Send a request (its head already encoded) and read its answer's head; `bodiless`
        for HEAD, whose answer announces a length but has no body."""
        if len(body) <= SEND_TOGETHER:
            self.sock.sendall(head + body)
        else:
            self.sock.sendall(head)
            self.sock.sendall(body)
        response = self.response = Response(self.sock, bodiless=bodiless)
        while not response.head_done:
            response.receive()
        return response

    def is_silent(self) -> bool:
        """Nothing to read while idle: the service has neither closed the connection nor sent
        anything unasked. Leaves the socket non-blocking; the pool sets its timeout."""
        try:
            self.sock.settimeout(0)
            self.sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return True
        except OSError:
            return False
        return False

    def settimeout(self, seconds: float | None) -> None:
        self.sock.settimeout(seconds)

    def close(self) -> None:
        self.sock.close()


class UpstreamPool:
    def __init__(self, upstream: Upstream, *, connect_timeout: float, read_timeout: float,
                 max_idle: int = 64) -> None:
        self.upstream = upstream
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_idle = max_idle
        self._idle: deque[tuple[Connection, float]] = deque()

    def acquire(self) -> tuple[Connection, bool]:
        """A connection and whether it was reused (a reused one may still have gone stale)."""
        now = time.monotonic()
        while self._idle:
            connection, since = self._idle.pop()
            if now - since < IDLE_LIMIT and connection.is_silent():
                connection.settimeout(self.read_timeout)
                return connection, True
            connection.close()
        return self.connect(), False

    def connect(self) -> Connection:
        """A fresh connection; raises OSError if the service does not accept it."""
        sock = socket.create_connection((self.upstream.host, self.upstream.port),
                                        timeout=self.connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.read_timeout)
        return Connection(sock)

    def release(self, connection: Connection) -> None:
        """Every acquired connection ends here. It is kept for the next request only if the
        answer to its last request was read to the end, allows keep-alive, and nothing came
        after it; otherwise it is closed."""
        response, connection.response = connection.response, None
        if response is not None and response.reusable and len(self._idle) < self.max_idle:
            self._idle.append((connection, time.monotonic()))
        else:
            connection.close()

    def close(self) -> None:
        while self._idle:
            self._idle.pop()[0].close()
