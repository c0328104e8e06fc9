"""Internal API for the other services (HMAC-authenticated by the app base; never routed)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from auth_service import errors
from auth_service.models import Account, db
from tessera_shared.clock import rfc3339

blueprint = Blueprint("internal", __name__, url_prefix="/internal")


@blueprint.get("/accounts/<user_id>")
def account(user_id: str) -> dict[str, Any]:
    found = db.session.get(Account, user_id)
    if found is None:
        raise errors.ACCOUNT_NOT_FOUND()
    return {"id": found.id, "email": found.email, "role": found.role,
            "verified_at": rfc3339(found.verified_at) if found.verified_at else None}
