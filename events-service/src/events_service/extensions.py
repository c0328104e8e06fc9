"""The events app's long-lived helpers, as its views reach them (bound once in
`create_app`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from events_service.live import Broadcaster
from tessera_shared.extensions import Extension


@dataclass(frozen=True)
class Helpers(Extension):
    key: ClassVar[str] = "events"
    broadcaster: Broadcaster


def broadcaster() -> Broadcaster:
    return Helpers.current().broadcaster
