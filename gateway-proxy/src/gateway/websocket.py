"""WebSocket pass-through for `/ws/...`: once the service has switched protocols, the gateway
only copies bytes both ways, so the protocol is entirely the service's."""

from __future__ import annotations

import contextlib
import socket
from typing import NoReturn

import gevent

from gateway.upstream import Connection, Response


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


def splice(client: socket.socket, connection: Connection, response: Response) -> NoReturn:
    """Pass the service's `101` on to the client, whose connection gunicorn's gevent worker
    has handed over, then copy until either side closes."""
    head = "".join((f"HTTP/1.1 101 {response.reason}\r\n",
                    *(f"{name}: {value}\r\n" for name, value in response.headers), "\r\n"))
    server = connection.sock
    try:
        client.sendall(head.encode("latin-1") + response.overflow)
        server.settimeout(None)
        client.settimeout(None)
        gevent.joinall([gevent.spawn(_pump, client, server), gevent.spawn(_pump, server, client)])
    finally:
        connection.close()
    # The connection now belongs to neither HTTP side; this tells gunicorn to let it go.
    raise StopIteration
