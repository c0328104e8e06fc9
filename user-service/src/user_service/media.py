"""Stored images, served under `{PUBLIC_URL}/media/...` through the gateway, and deleted once
no profile shows them. Keys are hashes of owner and content, so an answer never changes:
browsers and proxies may keep it for a year."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Blueprint, Response, send_from_directory
from sqlalchemy import orm

from tessera_shared import transactions
from tessera_shared.config import Settings
from tessera_shared.platform import platform
from user_service import images, profiles

blueprint = Blueprint("media", __name__, url_prefix="/media")
YEAR = 365 * 24 * 3600


def folder(settings: Settings) -> Path:
    """Where this service keeps stored images."""
    return settings.var_dir / "media"


def media_dir() -> Path:
    return folder(platform().settings)


@blueprint.get("/<path:key>")
def image(key: str) -> Response:
    response = send_from_directory(media_dir(), key, max_age=YEAR)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


@contextmanager
def unit_of_work(session: orm.Session | orm.scoped_session, media: Path) -> Iterator[None]:
    """A unit of work over profiles that deletes, once it has committed, the files of the
    images it took off profiles and no profile shows any more."""
    with transactions.unit_of_work(session):
        yield
        unshown = profiles.images_let_go(session)
        if unshown:
            transactions.after_commit(session, lambda: images.discard(media, unshown))
