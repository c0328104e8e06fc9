"""TOTP: the sealed secret, when it was enabled, the last accepted step; backup codes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("totp_secret", sa.String(128), nullable=True))
    op.add_column("accounts", sa.Column("totp_enabled_at", sa.DateTime(timezone=True),
                                        nullable=True))
    op.add_column("accounts", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "backup_codes",
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("code_digest", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_backup_codes_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "code_digest", name=op.f("pk_backup_codes")),
    )


def downgrade() -> None:
    op.drop_table("backup_codes")
    for column in ("totp_last_step", "totp_enabled_at", "totp_secret"):
        op.drop_column("accounts", column)
