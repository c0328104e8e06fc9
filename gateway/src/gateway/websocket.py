"""WebSocket pass-through for `/ws/...`: after the service accepts the upgrade, the gateway
only copies bytes both ways, so the protocol is entirely the service's."""

from __future__ import annotations

import contextlib
import socket

import gevent

from gateway.config import Upstream
from gateway.edge import Headers

MAX_HEAD = 16 * 1024


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


def bridge(environ: dict, upstream: Upstream, target: str, headers: Headers,
           connect_timeout: float) -> list[bytes]:
    """Take over the client's connection (gunicorn's gevent worker hands it over), connect it
    to the service and copy until either side closes. Raises OSError if the service cannot be
    reached, before anything was sent to the client."""
    client: socket.socket | None = environ.get("gunicorn.socket")
    if client is None:
        raise OSError("WebSocket pass-through needs the gateway's gevent worker")
    server = socket.create_connection((upstream.host, upstream.port), timeout=connect_timeout)
    head = [f"GET {target} HTTP/1.1", "Upgrade: websocket", "Connection: Upgrade"]
    head += [f"{name}: {value}" for name, value in headers]
    server.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    answer = b""
    while b"\r\n\r\n" not in answer and len(answer) < MAX_HEAD:
        chunk = server.recv(4096)
        if not chunk:
            break
        answer += chunk
    if not answer:
        server.close()
        raise OSError("the service closed the connection without answering the upgrade")
    client.sendall(answer)
    if answer.startswith((b"HTTP/1.1 101", b"HTTP/1.0 101")):
        server.settimeout(None)
        client.settimeout(None)
        gevent.joinall([gevent.spawn(_pump, client, server), gevent.spawn(_pump, server, client)])
    server.close()
    # The connection now belongs to neither HTTP side; this tells gunicorn to let it go.
    raise StopIteration
