"""Profiles and the event outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from tessera_shared.outbox_migration import create_outbox_tables, drop_outbox_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_tables()
    op.create_table(
        "profiles",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("handle", sa.String(64), nullable=False),
        sa.Column("handle_key", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("profile_image", sa.String(128), nullable=True),
        sa.Column("banner_image", sa.String(128), nullable=True),
        sa.Column("is_verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profiles")),
        sa.UniqueConstraint("handle_key", name=op.f("uq_profiles_handle_key")),
    )


def downgrade() -> None:
    op.drop_table("profiles")
    drop_outbox_tables()
