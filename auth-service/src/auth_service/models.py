"""What auth-service owns: accounts (email, password hash, role, second factor), the
identity-provider accounts and passkeys linked to them, and the mail queue."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tessera_shared.clock import utcnow
from tessera_shared.db import make_db

db = make_db()
EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a path


def email_key(email: str) -> str:
    """Emails are unique without regard to case; they are stored as given."""
    return email.strip().casefold()


class Account(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX_LENGTH))
    email_key: Mapped[str] = mapped_column(sa.String(EMAIL_MAX_LENGTH), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(256))
    verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    role: Mapped[str] = mapped_column(sa.String(16), default="user")
    # TOTP: the secret sealed with a key derived from SECRET_KEY; set by setup, in force
    # once enabled_at is set; last_step is the newest time step accepted (a code works once).
    totp_secret: Mapped[str | None] = mapped_column(sa.String(128))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)


class BackupCode(db.Model):  # type: ignore[name-defined,misc]
    """An unused backup code, as a keyed hash; using it deletes the row."""

    __tablename__ = "backup_codes"

    account_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    code_digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)


class Connection(db.Model):  # type: ignore[name-defined,misc]
    """An identity-provider account (Google, GitHub) that signs an account in; one per
    provider per account, and each provider account belongs to one account at most."""

    __tablename__ = "oauth_connections"
    __table_args__ = (sa.UniqueConstraint("account_id", "provider",
                                          name="uq_oauth_connections_account_id_provider"),)

    provider: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(255), primary_key=True)  # the provider's id
    account_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


PASSKEY_NAME_MAX_LENGTH = 64
CREDENTIAL_ID_MAX_LENGTH = 1023  # WebAuthn's bound on a credential id


class Passkey(db.Model):  # type: ignore[name-defined,misc]
    """A WebAuthn credential that signs an account in: its public key (COSE, as the
    authenticator gave it), the signature counter last seen, and the backup flags (a passkey
    that may be backed up must stay so, WebAuthn §6.1.3)."""

    __tablename__ = "passkeys"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(sa.LargeBinary(CREDENTIAL_ID_MAX_LENGTH),
                                                 unique=True)
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sign_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    backup_eligible: Mapped[bool] = mapped_column(sa.Boolean)
    backed_up: Mapped[bool] = mapped_column(sa.Boolean)
    transports: Mapped[str] = mapped_column(sa.String(128), default="")  # comma-separated
    aaguid: Mapped[str] = mapped_column(sa.String(36))  # the authenticator's model
    name: Mapped[str] = mapped_column(sa.String(PASSKEY_NAME_MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class QueuedMail(db.Model):  # type: ignore[name-defined,misc]
    """A mail waiting to be delivered; deleted once the server (or the mail folder) has it."""

    __tablename__ = "mail_queue"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(EMAIL_MAX_LENGTH))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True),
                                                      default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
