"""What user-service owns: profiles, and who follows whom."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tessera_shared.clock import utcnow
from tessera_shared.db import make_db

db = make_db()
# Made by migrations for the database at hand, not declared here (see user_service.search).
UNMANAGED_SCHEMA = ("profiles_fts", "ix_profiles_search", "search_document")


HANDLE_KEY_MAX = 64


def handle_key(handle: str) -> str:
    """Handles are unique without regard to case; they are stored as given. (Every handle
    taken now is ASCII; casefold also keys the older ones alike whatever their case.)"""
    return handle.casefold()


class Profile(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "profiles"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    handle: Mapped[str] = mapped_column(sa.String(64))
    handle_key: Mapped[str] = mapped_column(sa.String(HANDLE_KEY_MAX), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(64))
    bio: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str | None] = mapped_column(sa.String(64))  # the registry's short status line
    pronounce: Mapped[str | None] = mapped_column(sa.String(64))  # the user API's fields
    website: Mapped[str | None] = mapped_column(sa.String(200))
    profile_image: Mapped[str | None] = mapped_column(sa.String(128))
    banner_image: Mapped[str | None] = mapped_column(sa.String(128))
    is_verified: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow,
                                                 index=True)  # newest first, when listing
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)


class Follow(db.Model):  # type: ignore[name-defined,misc]
    """One user following another; it goes with either profile."""

    __tablename__ = "follows"
    __table_args__ = (sa.Index("ix_follows_followee_id_created_at", "followee_id", "created_at"),)

    follower_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True)
    followee_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
