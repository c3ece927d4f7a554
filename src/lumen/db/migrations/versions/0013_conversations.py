"""Conversations: a reply in a thread finds the agent it is for.

Every channel message Lumen hears that is a thread reply is looked up by its thread's ts: the
decision (or approval) whose message started the thread, or a thread someone opened with
`@Lumen acme cmo …` (conversation_threads). Both decision lookups need an index.

Revision ID: 0013
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import lumen.db.base

revision = "0013"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_decisions_slack_post", "decisions", ["slack_ts", "slack_channel_id"])
    op.create_index("ix_approvals_message", "approvals", ["message_ts", "channel_id"])
    op.create_table(
        "conversation_threads",
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", lumen.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_conversation_threads_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("channel_id", "thread_ts", name=op.f("pk_conversation_threads")),
    )


def downgrade() -> None:
    op.drop_table("conversation_threads")
    op.drop_index("ix_approvals_message", table_name="approvals")
    op.drop_index("ix_decisions_slack_post", table_name="decisions")
