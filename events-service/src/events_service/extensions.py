"""The events app's long-lived helpers, as its views reach them (bound once in
`create_app`)."""

from __future__ import annotations

from flask import Flask, current_app

from events_service.live import Broadcaster

KEY = "events"


def init_broadcaster(app: Flask, broadcaster: Broadcaster) -> None:
    app.extensions[KEY] = broadcaster


def broadcaster() -> Broadcaster:
    return current_app.extensions[KEY]
