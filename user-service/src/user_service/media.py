"""Stored images, served under `{PUBLIC_URL}/media/...` through the gateway, and deleted once
no profile shows them. Keys are hashes of owner and content, so an answer never changes:
browsers and proxies may keep it for a year."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, Response, abort
from sqlalchemy import orm

from tessera_shared import transactions
from user_service import images, profiles
from user_service.extensions import media_store
from user_service.storage import MediaStore

blueprint = Blueprint("media", __name__, url_prefix="/media")
YEAR = 365 * 24 * 3600
# What `images` stores (hashes, and scaled copies of them): never a path of anything else.
KEY = re.compile(rf"{images.FOLDER}/[0-9a-f]+(-[0-9]+q[0-9]+)?\.(?P<kind>webp|gif)")


@blueprint.get("/<path:key>")
def image(key: str) -> Response:
    stored = KEY.fullmatch(key)
    data = stored and media_store().read(key)
    if not stored or data is None:
        abort(404)
    return Response(data, mimetype=f"image/{stored['kind']}",
                    headers={"Cache-Control": f"public, max-age={YEAR}, immutable"})


@contextmanager
def unit_of_work(session: orm.Session | orm.scoped_session, media: MediaStore) -> Iterator[None]:
    """A unit of work over profiles that deletes, once it has committed, the files of the
    images it took off profiles and no profile shows any more."""
    with transactions.unit_of_work(session):
        yield
        unshown = profiles.images_let_go(session)
        if unshown:
            transactions.after_commit(session, lambda: images.discard(media, unshown))
