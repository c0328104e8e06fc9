"""What user-service does with other services' events."""

from __future__ import annotations

from sqlalchemy import orm

from tessera_shared.consumer import Handler
from tessera_shared.outbox import Event
from tessera_shared.platform import Platform
from user_service import profiles


def registration_abandoned(session: orm.Session, event: Event) -> None:
    """A sign-up saga failed after its profile was made and could not remove it directly."""
    profiles.delete(session, event.data["user_id"])


def email_verified(session: orm.Session, event: Event) -> None:
    """Auth verified the account's address (directly, or by a confirmed change of it); auth
    told this service at once too, unless it could not reach it."""
    profiles.mark_verified(session, event.data["user_id"])


def user_deleted(session: orm.Session, event: Event) -> None:
    """The account is gone: so is the profile, and its handle is free again."""
    profiles.delete(session, event.data["user_id"])


def handlers(_platform: Platform) -> dict[str, Handler]:
    return {
        "user.registration_abandoned": registration_abandoned,
        "user.deleted": user_deleted,
        "user.email_verified": email_verified,
        "user.email_changed": email_verified,
    }
