"""A stand-in upstream for the gateway's own tests: it shows what arrived and can answer
slowly, in a stream, in bulk, over a WebSocket, or hand a live stream over as events-service
does. (The platform's real services are tested
through the gateway in tests/e2e.)"""

from __future__ import annotations

import os

import gevent.event
import redis
from flask import Flask, Response, jsonify, request
from flask_sock import Sock

from tessera_shared.live import CHANNEL, EVERY_ENTRY, HANDOFF_HEADER, Entry, Handoff, Viewer


def replay_id(page: int) -> str:
    """An entry id older than any real one (uuid7 ids begin with the time)."""
    return f"00000000-0000-7000-8000-{page:012d}"


def tags(listed: str | None) -> frozenset[str]:
    return frozenset(listed.split(",")) if listed else frozenset()


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

    @app.get("/v0/auth/ticks")
    def ticks() -> Response:
        released.clear()

        def stream():
            yield b"data: first\n\n"
            released.wait(30)
            yield b"data: second\n\n"

        return Response(stream(), content_type="text/event-stream",
                        headers={"Cache-Control": "no-cache"})

    @app.post("/v0/auth/release")
    def release() -> Response:
        released.set()
        return jsonify(ok=True)

    @app.get("/v0/eventstream/actions")
    def live_stream() -> Response:
        """Hands the stream over as the query says: `viewer=<user id>:<role>`, `required` and
        `full_with` (comma-separated tags), `pages` (replay pages after `replay_id(1)`),
        `publish` (entry ids to publish live while answering, as if stored meanwhile), and
        `refuse=1` for a refusal instead."""
        if request.args.get("refuse"):
            return jsonify(message="no such filter"), 400
        for entry_id in tags(request.args.get("publish")):
            frame = f"id: {entry_id}\ndata: live\n\n".encode()
            redis.Redis.from_url(os.environ["REDIS_URL"]).publish(CHANNEL, Entry(
                entry_id, frozenset({EVERY_ENTRY}), frame, frame).encode())
        viewer = request.args.get("viewer")
        last = request.headers.get("Last-Event-ID")
        page = int(last.rsplit("-", 1)[1]) if last else 0
        pages = int(request.args.get("pages", "0"))
        handoff = Handoff(
            after=replay_id(page + 1) if last else None, more=bool(last) and page + 1 < pages,
            required=tags(request.args.get("required")),
            full_with=tags(request.args.get("full_with")),
            viewer=Viewer(*viewer.split(":")) if viewer else None)
        replay = f"id: {replay_id(page + 1)}\ndata: page {page + 1}\n\n" if last else ""
        return Response(replay, content_type="text/event-stream",
                        headers={HANDOFF_HEADER: handoff.encode()})

    @sock.route("/ws/omikron")
    def omikron(ws) -> None:
        while True:
            ws.send("echo:" + ws.receive())

    return app
