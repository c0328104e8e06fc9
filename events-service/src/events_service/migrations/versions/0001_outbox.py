"""The event outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from tessera_shared.outbox_migration import create_outbox_tables, drop_outbox_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_tables()


def downgrade() -> None:
    drop_outbox_tables()
