"""Envelopes beyond the agent's month, and what each reservation estimated.

Agents may have a daily envelope, ventures a monthly and a daily one (the platform's come
from lumen.yml). A spend row keeps the estimate its reservation was made from, so the worst
ratio of billed to estimated per model can scale the next estimates: a provider that bills
more than we foresee is reserved for at what it really bills. The platform envelope sums the
whole month's spend, and calibration reads a model's latest calls: two indexes for them.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Money = sa.Numeric(precision=18, scale=8)


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("budget_usd_day", Money, nullable=True))
    with op.batch_alter_table("ventures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("budget_usd_month", Money, nullable=True))
        batch_op.add_column(sa.Column("budget_usd_day", Money, nullable=True))
    with op.batch_alter_table("spend", schema=None) as batch_op:
        batch_op.add_column(sa.Column("estimate_usd", Money, nullable=True))
    op.create_index("ix_spend_created", "spend", ["created_at"])
    op.create_index("ix_spend_model_created", "spend", ["model", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_spend_model_created", table_name="spend")
    op.drop_index("ix_spend_created", table_name="spend")
    with op.batch_alter_table("spend", schema=None) as batch_op:
        batch_op.drop_column("estimate_usd")
    with op.batch_alter_table("ventures", schema=None) as batch_op:
        batch_op.drop_column("budget_usd_day")
        batch_op.drop_column("budget_usd_month")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("budget_usd_day")
