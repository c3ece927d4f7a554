"""Conversations: a reply in a thread finds the decision (or approval) whose message it answers.

Every channel message Lumen hears that is a thread reply is looked up by its thread's ts, so
both lookups need an index.

Revision ID: 0013
Revises: 0009
"""

from alembic import op

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_decisions_slack_post", "decisions", ["slack_ts", "slack_channel_id"])
    op.create_index("ix_approvals_message", "approvals", ["message_ts", "channel_id"])


def downgrade() -> None:
    op.drop_index("ix_approvals_message", table_name="approvals")
    op.drop_index("ix_decisions_slack_post", table_name="decisions")
