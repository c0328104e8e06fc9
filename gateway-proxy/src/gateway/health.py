"""The platform's health as one answer: `/health-check` is 204 only when every service has a
ready instance; `/health/ready` says which one has none, and how each instance is."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from gateway import extensions
from gateway.balance import READY

blueprint = Blueprint("health", __name__)


@blueprint.get("/health-check")
def health_check() -> tuple[str, int]:
    services = extensions.upstreams().status()
    return "", 204 if all(service.state == READY for service in services.values()) else 503


@blueprint.get("/health/ready")
def ready() -> tuple[dict[str, Any], int]:
    services = extensions.upstreams().status()
    healthy = all(service.state == READY for service in services.values())
    return {"status": "ready" if healthy else "unavailable",
            "services": {name: service.state for name, service in services.items()},
            # States only: where the instances listen is nobody's business outside.
            "instances": {name: [instance.state for instance in service.all]
                          for name, service in services.items()}}, 200 if healthy else 503
