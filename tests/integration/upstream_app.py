"""A stand-in upstream for the gateway's own tests: it shows what arrived and can answer
slowly, in a stream, in bulk or over a WebSocket. (The platform's real services are tested
through the gateway in tests/e2e.)"""

from __future__ import annotations

import gevent.event
from flask import Flask, Response, jsonify, request
from flask_sock import Sock


def create_app() -> Flask:
    app = Flask(__name__)
    sock = Sock(app)
    released = gevent.event.Event()

    @app.route("/v0/auth/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def echo() -> Response:
        return jsonify(method=request.method, path=request.path,
                       query=request.query_string.decode(), headers=dict(request.headers),
                       body_length=len(request.get_data()))

    @app.get("/v0/auth/slow")
    def slow() -> Response:
        gevent.sleep(10)
        return jsonify(ok=True)

    @app.get("/v0/auth/big")
    def big() -> Response:
        return Response(b"x" * (3 << 20), content_type="application/octet-stream")

    @app.get("/v0/auth/broken-off")
    def broken_off() -> Response:
        def stream():
            yield b"the first part, and then the service dies"
            raise RuntimeError("the service broke off its answer")

        return Response(stream(), content_type="text/plain")

    @app.get("/v0/eventstream/ticks")
    def ticks() -> Response:
        released.clear()

        def stream():
            yield b"data: first\n\n"
            released.wait(30)
            yield b"data: second\n\n"

        return Response(stream(), content_type="text/event-stream",
                        headers={"Cache-Control": "no-cache"})

    @app.post("/v0/eventstream/release")
    def release() -> Response:
        released.set()
        return jsonify(ok=True)

    @sock.route("/ws/omikron")
    def omikron(ws) -> None:
        while True:
            ws.send("echo:" + ws.receive())

    return app
