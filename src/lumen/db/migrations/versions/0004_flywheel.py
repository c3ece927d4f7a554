"""The flywheel: insights stamped with the week they cover, charts on brains, bounded reads.

- platform_insights.covers: the ISO week an insight version covers.
- brain_versions.chart_file_id, chart_alt: the weekly chart once uploaded to Slack, and its
  numbers in words (App Home shows both).
- ix_approvals_venture_status_resolved: a wake-up reads its venture's latest rejections
  without walking every rejection of every venture.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("platform_insights") as batch:
        batch.add_column(sa.Column("covers", sa.String(length=16), nullable=True))
    with op.batch_alter_table("brain_versions") as batch:
        batch.add_column(sa.Column("chart_file_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("chart_alt", sa.Text(), nullable=True))
    op.create_index("ix_approvals_venture_status_resolved", "approvals", ["venture_id", "status", "resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_approvals_venture_status_resolved", table_name="approvals")
    with op.batch_alter_table("brain_versions") as batch:
        batch.drop_column("chart_alt")
        batch.drop_column("chart_file_id")
    with op.batch_alter_table("platform_insights") as batch:
        batch.drop_column("covers")
