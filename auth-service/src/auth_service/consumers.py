"""What auth-service does with the platform's events."""

from __future__ import annotations

from sqlalchemy import orm

from auth_service import accounts
from tessera_shared.consumer import Handler
from tessera_shared.outbox import Event
from tessera_shared.platform import Platform


def handlers(platform: Platform) -> dict[str, Handler]:
    def user_deleted(session: orm.Session, event: Event) -> None:
        accounts.erase(session, platform.sessions, event.data["user_id"])

    return {"user.deleted": user_deleted}
