"""Full-text search over handles, display names and bios (see user_service.search).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

from user_service.search import COLUMN, DOCUMENT, INDEX_NAME

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = {
    "profiles_fts_insert": """
        CREATE TRIGGER profiles_fts_insert AFTER INSERT ON profiles BEGIN
          INSERT INTO profiles_fts(rowid, handle, display_name, bio)
          VALUES (new.rowid, new.handle, new.display_name, new.bio);
        END""",
    "profiles_fts_delete": """
        CREATE TRIGGER profiles_fts_delete AFTER DELETE ON profiles BEGIN
          INSERT INTO profiles_fts(profiles_fts, rowid, handle, display_name, bio)
          VALUES ('delete', old.rowid, old.handle, old.display_name, old.bio);
        END""",
    "profiles_fts_update": """
        CREATE TRIGGER profiles_fts_update AFTER UPDATE ON profiles BEGIN
          INSERT INTO profiles_fts(profiles_fts, rowid, handle, display_name, bio)
          VALUES ('delete', old.rowid, old.handle, old.display_name, old.bio);
          INSERT INTO profiles_fts(rowid, handle, display_name, bio)
          VALUES (new.rowid, new.handle, new.display_name, new.bio);
        END""",
}


def upgrade() -> None:
    op.create_index(op.f("ix_profiles_created_at"), "profiles", ["created_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE profiles ADD COLUMN {COLUMN} tsvector "
                   f"GENERATED ALWAYS AS ({DOCUMENT}) STORED")
        op.execute(f"CREATE INDEX {INDEX_NAME} ON profiles USING gin ({COLUMN})")
        return
    op.execute("CREATE VIRTUAL TABLE profiles_fts USING fts5(handle, display_name, bio, "
               "content='profiles', content_rowid='rowid')")
    for statement in SQLITE_TRIGGERS.values():
        op.execute(statement)
    op.execute("INSERT INTO profiles_fts(profiles_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {INDEX_NAME}")
        op.execute(f"ALTER TABLE profiles DROP COLUMN {COLUMN}")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE profiles_fts")
    op.drop_index(op.f("ix_profiles_created_at"), table_name="profiles")
