"""Per-person rate limits shared by the replicas: one row per person, kind and minute.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import lumen.db.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_windows",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("window_start", lumen.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_windows")),
    )
    op.create_index(op.f("ix_rate_limit_windows_window_start"), "rate_limit_windows", ["window_start"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_windows_window_start"), table_name="rate_limit_windows")
    op.drop_table("rate_limit_windows")
