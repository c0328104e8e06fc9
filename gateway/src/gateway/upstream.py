"""Pooled keep-alive connections to one service, on the standard library's `http.client`:
the cheapest HTTP client per call in Python (perf-notes: ~70 µs against ~450 µs for
`requests`), and cooperative under gevent's monkey-patched sockets."""

from __future__ import annotations

import http.client
import socket
import time
from collections import deque

from gateway.config import Upstream

IDLE_LIMIT = 50.0  # seconds; below the services' 75 s keep-alive, so we close first


class UpstreamPool:
    def __init__(self, upstream: Upstream, *, connect_timeout: float, read_timeout: float,
                 max_idle: int = 64) -> None:
        self.upstream = upstream
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_idle = max_idle
        self._idle: deque[tuple[http.client.HTTPConnection, float]] = deque()

    def acquire(self) -> tuple[http.client.HTTPConnection, bool]:
        """A connection and whether it was reused (a reused one may have gone stale)."""
        now = time.monotonic()
        while self._idle:
            connection, since = self._idle.pop()
            if now - since < IDLE_LIMIT:
                return connection, True
            connection.close()
        return self.connect(), False

    def connect(self) -> http.client.HTTPConnection:
        """A fresh connection; raises OSError if the service does not accept it."""
        connection = http.client.HTTPConnection(self.upstream.host, self.upstream.port,
                                                timeout=self.connect_timeout)
        connection.connect()
        assert connection.sock is not None
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.sock.settimeout(self.read_timeout)
        return connection

    def release(self, connection: http.client.HTTPConnection) -> None:
        if len(self._idle) < self.max_idle and connection.sock is not None:
            connection.sock.settimeout(self.read_timeout)
            self._idle.append((connection, time.monotonic()))
        else:
            connection.close()

    def close(self) -> None:
        while self._idle:
            self._idle.pop()[0].close()
