"""The platform's health as one answer: `/health-check` is 204 only when every service is
ready; `/health/ready` says which one is not."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import urllib3
from flask import Blueprint

from gateway import extensions
from gateway.config import GatewaySettings

blueprint = Blueprint("health", __name__)
CACHE_SECONDS = 1.0  # a flood of health checks costs the services one probe a second


class HealthProbe:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=1.5))
        self.pool = ThreadPoolExecutor(max_workers=len(settings.upstreams))
        self._last: tuple[float, dict[str, str]] = (0.0, {})
        self._probing = threading.Lock()  # concurrent askers wait for one probe, not start more

    def _probe(self, name: str) -> str:
        upstream = self.settings.upstreams[name]
        try:
            response = self.http.request(
                "GET", f"http://{upstream.host}:{upstream.port}/health/ready")
        except urllib3.exceptions.HTTPError:
            return "unreachable"
        return "ok" if response.status == 200 else f"not ready ({response.status})"

    def status(self) -> dict[str, str]:
        with self._probing:
            checked_at, result = self._last
            if time.monotonic() - checked_at < CACHE_SECONDS:
                return result
            names = list(self.settings.upstreams)
            result = dict(zip(names, self.pool.map(self._probe, names), strict=True))
            self._last = (time.monotonic(), result)
            return result


@blueprint.get("/health-check")
def health_check() -> tuple[str, int]:
    services = extensions.health_probe().status()
    return "", 204 if all(state == "ok" for state in services.values()) else 503


@blueprint.get("/health/ready")
def ready() -> tuple[dict[str, Any], int]:
    services = extensions.health_probe().status()
    healthy = all(state == "ok" for state in services.values())
    return {"status": "ready" if healthy else "unavailable", "services": services}, (
        200 if healthy else 503)

