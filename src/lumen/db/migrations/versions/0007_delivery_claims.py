"""Claims that cannot outlive themselves: the outbox row's claim token, and event receipts
that say whether the event was handled.

An outbox row carries the token of the dispatcher that claimed it; every write after the
Slack call is conditional on it, so a dispatcher whose claim ran out (Slack was slow) sends
nothing twice and overwrites nothing. An event receipt is claimed for a while, and marked
handled only once its work is done; a receipt whose handler died is taken over from the
body it keeps. Receipts written before this migration were handled.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import lumen.db.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
    with op.batch_alter_table("slack_event_receipts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", lumen.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("handled_at", lumen.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("body", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True)
        )
    op.execute("UPDATE slack_event_receipts SET handled_at = received_at, attempts = 1")


def downgrade() -> None:
    with op.batch_alter_table("slack_event_receipts", schema=None) as batch_op:
        for column in ("body", "attempts", "handled_at", "claimed_until", "claim_token"):
            batch_op.drop_column(column)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("claim_token")
