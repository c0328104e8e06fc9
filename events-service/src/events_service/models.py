"""What events-service owns: the action log."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tessera_shared.db import make_db

db = make_db()


class ActionLog(db.Model):  # type: ignore[name-defined,misc]
    """One thing that happened, as the v0 API shows it (`ActionLogResponse`)."""

    __tablename__ = "action_logs"

    # Given in the order entries are committed (UUIDv7, see `ActionLogClock`), so keyset
    # pages and stream replays follow storage order even when an event arrives late.
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    action: Mapped[str] = mapped_column(sa.String(64))
    actor_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    actor_ip: Mapped[str | None] = mapped_column(sa.String(64))
    resource_type: Mapped[str] = mapped_column(sa.String(16))
    resource_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    summary: Mapped[str] = mapped_column(sa.Text)
    details: Mapped[str | None] = mapped_column("metadata", sa.Text)  # JSON
    public: Mapped[bool] = mapped_column(sa.Boolean)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class ActionLogClock(db.Model):  # type: ignore[name-defined,misc]
    """The last entry id given, in its one row. Each instance's consumer updates it before
    making an entry's id, so the row's lock (on SQLite, the database's write lock) is held
    from there to the commit: entries are given ids in the order they are committed, and a
    stream that resumes after the last id it got misses none committed after it."""

    __tablename__ = "action_log_clock"

    one: Mapped[bool] = mapped_column(sa.Boolean, primary_key=True, default=True)
    last_id: Mapped[str] = mapped_column(sa.String(36))
