"""What registry-service owns: the keys and secrets of registry users, Iotas and Omikrons.

Profiles (username, display, about, status, avatar) belong to user-service; a registry user
is one Tessera user with a profile there and a row here. Secrets are stored as SHA-256
digests: the private-key hash (itself a hash, but the credential the registry checks) and the
reset token. `number` is the same user's id in the WebSocket protocol, which names users,
Iotas and Omikrons by integers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tessera_shared.clock import utcnow
from tessera_shared.db import make_db

db = make_db()


class Keyholder(db.Model):  # type: ignore[name-defined,misc]
    """A user's registry record."""

    __tablename__ = "keyholders"

    user_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    number: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    public_key: Mapped[str] = mapped_column(sa.Text)
    key_hash_digest: Mapped[str | None] = mapped_column(sa.String(64))
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    iota_id: Mapped[str] = mapped_column(sa.String(64))  # as the Iota gave it: UUID or number
    sub_level: Mapped[int] = mapped_column(sa.Integer, default=0)
    sub_until: Mapped[date | None] = mapped_column(sa.Date)  # the first UTC day without it
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    # Every write is made against the reset token it read: of two changes racing with one
    # token, the second finds it replaced and fails (StaleDataError), so a token works once.
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": token_digest,
                                                 "version_id_generator": False}


class Iota(db.Model):  # type: ignore[name-defined,misc]
    """A home server known to the registry."""

    __tablename__ = "iotas"

    number: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    public_key: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class Omikron(db.Model):  # type: ignore[name-defined,misc]
    """A relay allowed to ask the registry: by its REST id (`Authorization`), or over the
    WebSocket by proving it holds the private key of `public_key` (X448)."""

    __tablename__ = "omikrons"

    number: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    rest_id_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    public_key: Mapped[str] = mapped_column(sa.Text)
    location: Mapped[str | None] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
