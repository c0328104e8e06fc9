"""Keyholders, Iotas and Omikrons.

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

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "keyholders",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("number", sa.BigInteger, nullable=False, unique=True),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("key_hash_digest", sa.String(64)),
        sa.Column("token_digest", sa.String(64), nullable=False, unique=True),
        sa.Column("iota_id", sa.String(64), nullable=False),
        sa.Column("sub_level", sa.Integer, nullable=False),
        sa.Column("sub_until", sa.Date),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_table(
        "iotas",
        sa.Column("number", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_table(
        "omikrons",
        sa.Column("number", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("rest_id_digest", sa.String(64), nullable=False, unique=True),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("location", sa.String(128)),
        sa.Column("created_at", WHEN, nullable=False),
    )


def downgrade() -> None:
    for table in ("omikrons", "iotas", "keyholders"):
        op.drop_table(table)
