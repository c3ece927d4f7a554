"""Full-text search over decisions: SQLite FTS5, Postgres tsvector with a GIN index.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# What a question can match: the title, why, what was expected, and the category's words.
PG_DOCUMENT = (
    "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(rationale, '') || ' ' || "
    "coalesce(expected_effect, '') || ' ' || replace(category, '_', ' '))"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_decisions_search ON decisions USING gin ({PG_DOCUMENT})")
        return
    op.execute(
        "CREATE VIRTUAL TABLE decisions_fts USING fts5("
        "title, rationale, expected_effect, category, content='decisions', content_rowid='id', "
        "tokenize='porter unicode61')"
    )
    columns = "title, rationale, expected_effect, category"
    new = "new.title, new.rationale, new.expected_effect, replace(new.category, '_', ' ')"
    old = "old.title, old.rationale, old.expected_effect, replace(old.category, '_', ' ')"
    op.execute(
        f"CREATE TRIGGER decisions_fts_insert AFTER INSERT ON decisions BEGIN "
        f"INSERT INTO decisions_fts(rowid, {columns}) VALUES (new.id, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER decisions_fts_delete AFTER DELETE ON decisions BEGIN "
        f"INSERT INTO decisions_fts(decisions_fts, rowid, {columns}) VALUES ('delete', old.id, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER decisions_fts_update AFTER UPDATE OF title, rationale, expected_effect, category "
        f"ON decisions BEGIN "
        f"INSERT INTO decisions_fts(decisions_fts, rowid, {columns}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO decisions_fts(rowid, {columns}) VALUES (new.id, {new}); END"
    )
    op.execute(f"INSERT INTO decisions_fts(rowid, {columns}) SELECT id, title, rationale, expected_effect, replace(category, '_', ' ') FROM decisions")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_decisions_search")
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS decisions_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS decisions_fts")
