"""What auth-service does with the platform's events."""

from __future__ import annotations

from sqlalchemy import orm

from auth_service import accounts
from tessera_shared.events import Event, Handler
from tessera_shared.sessions import SessionStore


def handlers(sessions: SessionStore) -> dict[str, Handler]:
    def user_deleted(session: orm.Session, event: Event) -> None:
        accounts.delete_account(session, sessions, event.data["user_id"])

    return {"user.deleted": user_deleted}
