"""Pooled keep-alive HTTP/1.1 connections to one service, with only what a proxy needs.

`http.client` parses every response's headers with the `email` package and sends a request in
several writes; on the gateway's hot path that was most of its own CPU. Here a request goes
out in one `sendall`, the status line and headers are split by hand, and the body is read by
length, by chunk (decoded, as WSGI wants) or until the service closes the connection.
"""

from __future__ import annotations

import socket
import time
from collections import deque
from collections.abc import Iterator

from gateway.config import Upstream

IDLE_LIMIT = 50.0  # seconds; below the services' 75 s keep-alive, so we close first
MAX_LINE = 65536
MAX_HEADERS = 100


class UpstreamProtocolError(Exception):
    """The service answered with something that is not HTTP/1.1."""


class Response:
    """A response head, and its body to read whole or to stream."""

    def __init__(self, connection: Connection, status: int, reason: str,
                 headers: list[tuple[str, str]], *, bodiless: bool = False) -> None:
        self.connection = connection
        self.status = status
        self.reason = reason
        self.headers = headers
        self.length: int | None = None
        self.chunked = False
        self.will_close = False
        for name, value in headers:
            lowered = name.lower()
            if lowered == "content-length":
                self.length = int(value)
            elif lowered == "transfer-encoding":
                self.chunked = "chunked" in value.lower()
            elif lowered == "connection":
                self.will_close = "close" in value.lower()
        if self.chunked:
            self.length = None
        if bodiless or status in {204, 304} or 100 <= status < 200:
            self.length, self.chunked = 0, False
        elif self.length is None:
            self.will_close = True  # the body ends when the service closes the connection

    def read(self) -> bytes:
        """The whole body of a response with a known length."""
        assert self.length is not None
        data = self.connection.reader.read(self.length)
        if len(data) < self.length:
            raise UpstreamProtocolError("the body ended early")
        return data

    def stream(self, chunk_size: int) -> Iterator[bytes]:
        """The body as it arrives; raises OSError if the service goes away mid-body."""
        reader = self.connection.reader
        if self.chunked:
            while size := self._chunk_size():
                yield reader.read(size)
                reader.readline(MAX_LINE)
            while reader.readline(MAX_LINE) not in {b"\r\n", b"\n", b""}:
                pass  # trailers
        elif self.length is not None:
            remaining = self.length
            while remaining:
                data = reader.read1(min(chunk_size, remaining))
                if not data:
                    raise UpstreamProtocolError("the body ended early")
                remaining -= len(data)
                yield data
        else:
            while data := reader.read1(chunk_size):
                yield data


    def _chunk_size(self) -> int:
        line = self.connection.reader.readline(MAX_LINE)
        try:
            return int(line.split(b";", 1)[0], 16)
        except ValueError:
            raise UpstreamProtocolError(f"bad chunk size line {line[:40]!r}") from None


class Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb", buffering=MAX_LINE)

    def request(self, head: bytes, body: bytes, *, bodiless: bool = False) -> Response:
        """Send a request (head already encoded) and read the response head; `bodiless`
        for HEAD, whose answer has a length but no body."""
        self.sock.sendall(head + body if len(body) < 65536 else head)
        if len(body) >= 65536:
            self.sock.sendall(body)
        line = self.reader.readline(MAX_LINE)
        if not line:
            raise ConnectionResetError("the service closed the connection")
        version, _, rest = line.decode("latin-1").rstrip("\r\n").partition(" ")
        status, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or not status.isdigit():
            raise UpstreamProtocolError(f"bad status line {line[:80]!r}")
        code = int(status)
        headers = []
        for _ in range(MAX_HEADERS):
            raw = self.reader.readline(MAX_LINE)
            if raw in {b"\r\n", b"\n"}:
                return Response(self, code, reason, headers, bodiless=bodiless)
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep:
                raise UpstreamProtocolError("a header line without a colon")
            headers.append((name.strip(), value.strip()))
        raise UpstreamProtocolError("too many response headers")

    def settimeout(self, seconds: float | None) -> None:
        self.sock.settimeout(seconds)

    def close(self) -> None:
        self.reader.close()
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
        """A connection and whether it was reused (a reused one may have gone stale)."""
        now = time.monotonic()
        while self._idle:
            connection, since = self._idle.pop()
            if now - since < IDLE_LIMIT:
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
        if len(self._idle) < self.max_idle:
            connection.settimeout(self.read_timeout)
            self._idle.append((connection, time.monotonic()))
        else:
            connection.close()

    def close(self) -> None:
        while self._idle:
            self._idle.pop()[0].close()
