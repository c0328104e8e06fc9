"""What every service app carries: settings, its database engine, Redis, sessions, the
internal client, and the background workers (outbox relay, event consumers) that gunicorn
starts in each worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import redis as redis_py
import sqlalchemy as sa

from tessera_shared.background import BackgroundWorker
from tessera_shared.config import Settings
from tessera_shared.extensions import Extension
from tessera_shared.internal import InternalClient
from tessera_shared.sessions import SessionStore
from tessera_shared.throttle import Throttle


@dataclass
class Platform(Extension):
    key: ClassVar[str] = "tessera"
    settings: Settings
    engine: sa.Engine
    redis: redis_py.Redis
    sessions: SessionStore
    internal: InternalClient
    throttle: Throttle
    background: list[BackgroundWorker] = field(default_factory=list)

    def start_background(self) -> None:
        for worker in self.background:
            worker.start()

    def stop_background(self) -> None:
        for worker in reversed(self.background):
            worker.stop()


def platform() -> Platform:
    """The current app's platform handle."""
    return Platform.current()
