"""The action log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_logs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("actor_id", sa.String(36), nullable=True),
        sa.Column("actor_ip", sa.String(64), nullable=True),
        sa.Column("resource_type", sa.String(16), nullable=False),
        sa.Column("resource_id", sa.String(36), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_logs")),
        sa.UniqueConstraint("event_id", name=op.f("uq_action_logs_event_id")),
    )
    op.create_index(op.f("ix_action_logs_actor_id"), "action_logs", ["actor_id"])
    op.create_index(op.f("ix_action_logs_resource_id"), "action_logs", ["resource_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_action_logs_resource_id"), table_name="action_logs")
    op.drop_index(op.f("ix_action_logs_actor_id"), table_name="action_logs")
    op.drop_table("action_logs")
