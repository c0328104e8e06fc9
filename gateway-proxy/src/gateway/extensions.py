"""The gateway app's long-lived helpers, as its own views reach them (bound once in
`create_app`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:  # the views that reach them import this module
    from gateway.docs import SpecCache
    from gateway.health import HealthProbe

KEY = "gateway"


@dataclass(frozen=True)
class Helpers:
    spec: SpecCache
    health: HealthProbe

    def init_app(self, app: Flask) -> None:
        app.extensions[KEY] = self


def spec_cache() -> SpecCache:
    return current_app.extensions[KEY].spec


def health_probe() -> HealthProbe:
    return current_app.extensions[KEY].health
