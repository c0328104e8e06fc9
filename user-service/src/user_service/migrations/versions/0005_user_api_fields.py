"""The user API's profile fields: how a name is pronounced, and a website.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("profiles", sa.Column("pronounce", sa.String(64), nullable=True))
    op.add_column("profiles", sa.Column("website", sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column("profiles", "website")
    op.drop_column("profiles", "pronounce")
