"""Full-text search over handles, display names and bios (see user_service.search).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

from user_service.search import DOCUMENT, INDEX_NAME

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
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX {INDEX_NAME} ON profiles USING gin (({DOCUMENT}))")
        return
    op.execute("CREATE VIRTUAL TABLE profiles_fts USING fts5(handle, display_name, bio, "
               "content='profiles', content_rowid='rowid')")
    for statement in SQLITE_TRIGGERS.values():
        op.execute(statement)
    op.execute("INSERT INTO profiles_fts(profiles_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {INDEX_NAME}")
        return
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TABLE profiles_fts")
