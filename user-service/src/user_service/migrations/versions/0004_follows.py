"""Follows: who follows whom, gone with either profile.

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
        "follows",
        sa.Column("follower_id", sa.String(36), nullable=False),
        sa.Column("followee_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["follower_id"], ["profiles.id"], ondelete="CASCADE",
                                name=op.f("fk_follows_follower_id_profiles")),
        sa.ForeignKeyConstraint(["followee_id"], ["profiles.id"], ondelete="CASCADE",
                                name=op.f("fk_follows_followee_id_profiles")),
        sa.PrimaryKeyConstraint("follower_id", "followee_id", name=op.f("pk_follows")),
    )
    op.create_index("ix_follows_followee_id_created_at", "follows",
                    ["followee_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_follows_followee_id_created_at", table_name="follows")
    op.drop_table("follows")
