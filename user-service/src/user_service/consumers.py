"""What user-service does with other services' events."""

from __future__ import annotations

from sqlalchemy import orm

from tessera_shared.consumer import Handler
from tessera_shared.outbox import Event
from user_service import media, profiles
from user_service.storage import MediaStore


def email_verified(session: orm.Session, event: Event) -> None:
    """Auth verified the account's address (directly, or by a confirmed change of it); auth
    told this service at once too, unless it could not reach it."""
    profiles.mark_verified(session, event.data["user_id"])


def handlers(media_store: MediaStore) -> dict[str, Handler]:
    def profile_gone(session: orm.Session, event: Event) -> None:
        """The account is gone (`user.deleted`), or a sign-up saga failed after its profile
        was made and could not remove it directly (`user.registration_abandoned`): so is the
        profile, with its images, and its handle is free again."""
        with media.unit_of_work(session, media_store):
            profiles.delete(session, event.data["user_id"])

    return {
        "user.registration_abandoned": profile_gone,
        "user.deleted": profile_gone,
        "user.email_verified": email_verified,
        "user.email_changed": email_verified,
    }
