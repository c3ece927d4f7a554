"""A venture's decisions of one category, newest first: the evidence on an approval card.

Every gated decision's card lists the latest earlier decisions of its venture and category.
With only (venture_id, created_at), the database read all of a venture's decisions and sorted
them (40 ms at 100k on SQLite, more on Postgres), once per card; with this index it reads three.
benchmarks/context_scaling.py found it.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_decisions_venture_category", "decisions", ["venture_id", "category", "id"])


def downgrade() -> None:
    op.drop_index("ix_decisions_venture_category", table_name="decisions")
