"""Stored images, served under `{PUBLIC_URL}/media/...` through the gateway. Keys are content
hashes, so an answer never changes: browsers and proxies may keep it for a year."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

from tessera_shared.platform import platform

blueprint = Blueprint("media", __name__, url_prefix="/media")
YEAR = 365 * 24 * 3600


def media_dir() -> Path:
    """Where this service keeps stored images."""
    return platform().settings.var_dir / "media"


@blueprint.get("/<path:key>")
def image(key: str) -> Response:
    response = send_from_directory(media_dir(), key, max_age=YEAR)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response
