"""Questions agents ask humans (`ask_human`): one row per question, answered exactly once.

Revision ID: 0014
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import lumen.db.base

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
When = lumen.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "human_questions",
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("venture_id", BigId, nullable=False),
        sa.Column("agent_id", BigId, nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("options", Json, nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "answered", "expired", name="questionstatus", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("approvers", Json, nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("expires_at", When, nullable=False),
        sa.Column("next_reminder_at", When, nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.Column("answered_at", When, nullable=True),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("created_at", When, server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_human_questions_run_id_runs")),
        sa.ForeignKeyConstraint(["venture_id"], ["ventures.id"], name=op.f("fk_human_questions_venture_id_ventures")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_human_questions_agent_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_human_questions")),
        sa.UniqueConstraint("run_id", "ordinal", name=op.f("uq_human_questions_run_id_ordinal")),
    )
    op.create_index("ix_human_questions_status_expires", "human_questions", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_human_questions_status_expires", table_name="human_questions")
    op.drop_table("human_questions")
