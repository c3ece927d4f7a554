"""A venture's questions to humans by status and answer time: each wake-up's context reads the
open ones and the latest answers, which must not mean walking every answer ever given.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_human_questions_venture_status_answered", "human_questions", ["venture_id", "status", "answered_at"])


def downgrade() -> None:
    op.drop_index("ix_human_questions_venture_status_answered", table_name="human_questions")
