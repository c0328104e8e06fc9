"""Social sign-in: the identity-provider accounts linked to accounts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_connections",
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_oauth_connections_account_id_accounts")),
        sa.PrimaryKeyConstraint("provider", "subject", name=op.f("pk_oauth_connections")),
        sa.UniqueConstraint("account_id", "provider",
                            name=op.f("uq_oauth_connections_account_id_provider")),
    )


def downgrade() -> None:
    op.drop_table("oauth_connections")
