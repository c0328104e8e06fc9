"""What registry-service does with the platform's events."""

from __future__ import annotations

from sqlalchemy import orm

from registry_service import keyholders
from tessera_shared.consumer import Handler
from tessera_shared.outbox import Event
from tessera_shared.platform import Platform


def user_deleted(session: orm.Session, event: Event) -> None:
    """The user is gone, wherever that started: so are their keys and reset token."""
    keyholders.erase(session, event.data["user_id"])


def handlers(_platform: Platform) -> dict[str, Handler]:
    return {"user.deleted": user_deleted}
