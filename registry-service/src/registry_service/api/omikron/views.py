"""The Omikron endpoint `/ws/omikron`: the handshake's HTTP side, then one connection per
socket (`connection.OmikronConnection`)."""

from __future__ import annotations

import os

from flask import Flask, request
from flask_sock import Sock

from registry_service.api.omikron import handshake
from registry_service.api.omikron.connection import OmikronConnection, Socket, Timing
from registry_service.api.omikron.handlers import Context
from registry_service.extensions import profiles, registrations
from registry_service.keyholders import Guard
from registry_service.models import db
from registry_service.presence import Presence
from tessera_shared.context import client_ip
from tessera_shared.errors import bad_request
from tessera_shared.platform import Platform, platform

MAX_FRAME = 4 << 20  # an avatar (2 MiB) as base64, and the rest of the frame


def init_app(app: Flask) -> None:
    app.config["SOCK_SERVER_OPTIONS"] = {"max_message_size": MAX_FRAME}
    sock = Sock(app)
    settings = Platform.of(app).settings
    server_key = handshake.server_key(settings.secret_key)
    # The original's 5 s / 30 s; tests shorten them.
    timing = Timing(ping_every=float(os.environ.get("OMIKRON_PING_SECONDS", "5")),
                    idle_limit=float(os.environ.get("OMIKRON_IDLE_SECONDS", "30")))
    presence = Presence(Platform.of(app).redis, stale_after=2 * timing.idle_limit)

    @app.before_request
    def _refuse_incomplete_handshakes() -> None:
        # The WebSocket library raises on these (a 500); RFC 6455 4.2.1 asks for a 400.
        if (request.path.startswith("/ws/omikron")
                and request.headers.get("Upgrade", "").lower() == "websocket"
                and (not request.headers.get("Sec-WebSocket-Key")
                     or request.headers.get("Sec-WebSocket-Version") != "13")):
            raise bad_request("A WebSocket handshake needs Sec-WebSocket-Key and "
                              "Sec-WebSocket-Version: 13.")

    @sock.route("/ws/omikron")
    def omikron(socket: Socket) -> None:
        tessera = platform()
        context = Context(session=db.session, registrations=registrations(), profiles=profiles(),
            presence=presence, guard=Guard(tessera.throttle, client_ip()), connection="")
        OmikronConnection(socket, server_key, timing, context).run()
