"""Whole-word search over decisions, with the document stored (Postgres) and ranked.

0002 indexed stemmed words (Porter, `english`): "ads" and "adding" both became "ad", so a
question about ads found "Adding bulk CSV import". Ask now spells out the forms it wants
("hire, hires, hired, hiring"), so both indexes keep words as written:
  * SQLite: the FTS5 table is rebuilt with the `unicode61` tokenizer (no stemming);
  * Postgres: a stored `search_vector` column (`simple` configuration; the title weighted A,
    rationale and expected effect B, the category's words C) with a GIN index. Stored rather
    than an expression index so ranking (`ts_rank`) and the planner's statistics read it
    instead of recomputing `to_tsvector` per row: at 1M decisions a rare word no longer makes
    Postgres walk the date index (about 600 ms before).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = "title, rationale, expected_effect, category"
NEW = "new.title, new.rationale, new.expected_effect, replace(new.category, '_', ' ')"
OLD = "old.title, old.rationale, old.expected_effect, replace(old.category, '_', ' ')"
PG_VECTOR = (
    "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(rationale, '') || ' ' || coalesce(expected_effect, '')), 'B') || "
    "setweight(to_tsvector('simple', replace(coalesce(category, ''), '_', ' ')), 'C')"
)
PG_STEMMED = (
    "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(rationale, '') || ' ' || "
    "coalesce(expected_effect, '') || ' ' || replace(category, '_', ' '))"
)


def _sqlite_fts(tokenizer: str) -> None:
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS decisions_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS decisions_fts")
    op.execute(
        f"CREATE VIRTUAL TABLE decisions_fts USING fts5({COLUMNS}, content='decisions', content_rowid='id', "
        f"tokenize='{tokenizer}')"
    )
    op.execute(
        f"CREATE TRIGGER decisions_fts_insert AFTER INSERT ON decisions BEGIN "
        f"INSERT INTO decisions_fts(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END"
    )
    op.execute(
        f"CREATE TRIGGER decisions_fts_delete AFTER DELETE ON decisions BEGIN "
        f"INSERT INTO decisions_fts(decisions_fts, rowid, {COLUMNS}) VALUES ('delete', old.id, {OLD}); END"
    )
    op.execute(
        f"CREATE TRIGGER decisions_fts_update AFTER UPDATE OF title, rationale, expected_effect, category "
        f"ON decisions BEGIN "
        f"INSERT INTO decisions_fts(decisions_fts, rowid, {COLUMNS}) VALUES ('delete', old.id, {OLD}); "
        f"INSERT INTO decisions_fts(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END"
    )
    op.execute(
        f"INSERT INTO decisions_fts(rowid, {COLUMNS}) "
        "SELECT id, title, rationale, expected_effect, replace(category, '_', ' ') FROM decisions"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE decisions ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({PG_VECTOR}) STORED")
        op.execute("DROP INDEX IF EXISTS ix_decisions_search")
        op.execute("CREATE INDEX ix_decisions_search ON decisions USING gin (search_vector)")
        return
    _sqlite_fts("unicode61 remove_diacritics 2")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_decisions_search")
        op.execute("ALTER TABLE decisions DROP COLUMN IF EXISTS search_vector")
        op.execute(f"CREATE INDEX ix_decisions_search ON decisions USING gin ({PG_STEMMED})")
        return
    _sqlite_fts("porter unicode61")
