"""A short status line on profiles (the registry's `status`).

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
    op.add_column("profiles", sa.Column("status", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("profiles", "status")
