"""`/health-check` (alive: 204) and `/health/ready` (database and Redis answer: 200, else 503)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint

from tessera_shared.platform import platform

blueprint = Blueprint("health", __name__)


@blueprint.get("/health-check")
def alive() -> tuple[str, int]:
    return "", 204


@blueprint.get("/health/ready")
def ready() -> tuple[dict[str, Any], int]:
    checks: dict[str, str] = {}
    try:
        with platform().engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except sa.exc.SQLAlchemyError as error:
        checks["database"] = f"unavailable: {type(error).__name__}"
    try:
        platform().redis.ping()
        checks["redis"] = "ok"
    except Exception as error:  # any failure to reach Redis means not ready
        checks["redis"] = f"unavailable: {type(error).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return {"status": "ready" if healthy else "unavailable", "checks": checks}, (
        200 if healthy else 503)
