"""Decisions newest first across all ventures: an index on created_at alone.

Questions about every venture ("what failed last quarter?") ask for the newest 25 matching
decisions. With only (venture_id, created_at), Postgres reads every decision of the period for
all ventures and rechecks the search expression on each (1.5 s at 1M decisions); with this
index it walks backwards in time and stops at the 25th match (about 10 ms).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_decisions_created", "decisions", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_decisions_created", table_name="decisions")
