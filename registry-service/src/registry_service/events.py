"""What registry-service does with the platform's events."""

from __future__ import annotations

from sqlalchemy import orm

from registry_service import keyholders
from tessera_shared.events import Event


def user_deleted(session: orm.Session, event: Event) -> None:
    """The user is gone, wherever that started: so are their keys and reset token."""
    keyholders.erase(session, event.data["user_id"])


HANDLERS = {"user.deleted": user_deleted}
