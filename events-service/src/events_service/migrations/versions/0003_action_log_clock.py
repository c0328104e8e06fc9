"""The action log's clock: entry ids in commit order with several instances.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ZERO = "00000000-0000-0000-0000-000000000000"


def upgrade() -> None:
    clock = op.create_table(
        "action_log_clock",
        sa.Column("one", sa.Boolean(), nullable=False),
        sa.Column("last_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("one", name=op.f("pk_action_log_clock")),
    )
    last = op.get_bind().scalar(sa.text("SELECT max(id) FROM action_logs"))
    op.bulk_insert(clock, [{"one": True, "last_id": last or ZERO}])


def downgrade() -> None:
    op.drop_table("action_log_clock")
