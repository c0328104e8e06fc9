"""What user-service does with other services' events."""

from __future__ import annotations

from sqlalchemy import orm

from tessera_shared.events import Event
from user_service import profiles


def registration_abandoned(session: orm.Session, event: Event) -> None:
    """A sign-up saga failed after its profile was made and could not remove it directly."""
    profiles.delete(session, event.data["user_id"])


HANDLERS = {"user.registration_abandoned": registration_abandoned}
