"""Every concept of DESIGN.md's data model, as typed SQLAlchemy 2 models.

Relationships are `lazy="raise"`: an async session must say what it loads.
Versioned things (brains, insights, gate policies) are new rows, never updates.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum as StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lumen.db.base import Base, BigId, IdMixin, TimestampMixin, utcnow
from lumen.db.enums import (
    AgentStatus,
    ApprovalStatus,
    DecisionStatus,
    OutboxStatus,
    QuestionStatus,
    RunKind,
    RunStatus,
    RunTrigger,
    StepKind,
    Verdict,
)
from lumen.domain.channels import channel_address

Money = Numeric(18, 8)


def _enum(cls: type[StrEnum]) -> Enum:
    # Stored as plain strings with a CHECK: portable, and readable in psql/sqlite3.
    return Enum(
        cls,
        name=cls.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Venture(IdMixin, TimestampMixin, Base):
    __tablename__ = "ventures"

    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    stage: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(80))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    goals: Mapped[list[Any]] = mapped_column(default=list)
    playbook: Mapped[list[Any]] = mapped_column(default=list)
    gate_overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The venture's own envelopes, on top of its agents' (None: none declared).
    budget_usd_month: Mapped[Decimal | None] = mapped_column(Money)
    budget_usd_day: Mapped[Decimal | None] = mapped_column(Money)
    # Ventures removed from lumen.yml are archived, never deleted: their history stays.
    archived_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agents: Mapped[list[Agent]] = relationship(
        back_populates="venture", lazy="raise", order_by="Agent.role"
    )

    @property
    def address(self) -> str:
        """Where this venture's posts go."""
        return channel_address(self.channel_id, self.channel)


class Agent(IdMixin, TimestampMixin, Base):
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("venture_id", "role"),)

    venture_id: Mapped[int] = mapped_column(ForeignKey("ventures.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    schedule: Mapped[str] = mapped_column(String(120))
    model_tier: Mapped[str] = mapped_column(String(16), default="strong")
    budget_usd_month: Mapped[Decimal] = mapped_column(Money)
    budget_usd_day: Mapped[Decimal | None] = mapped_column(Money)
    status: Mapped[AgentStatus] = mapped_column(_enum(AgentStatus), default=AgentStatus.ACTIVE)
    status_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # lumen.yml's `triggers:` (domain/triggers.py TriggersConfig): what wakes it besides its schedule.
    triggers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    archived_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    venture: Mapped[Venture] = relationship(back_populates="agents", lazy="raise")


class Run(IdMixin, TimestampMixin, Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_claimable", "status", "lease_expires_at"),
        Index("ix_runs_agent_created", "agent_id", "created_at"),
    )

    kind: Mapped[RunKind] = mapped_column(_enum(RunKind), default=RunKind.WAKE)
    venture_id: Mapped[int | None] = mapped_column(ForeignKey("ventures.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    trigger: Mapped[RunTrigger] = mapped_column(_enum(RunTrigger))
    # kind:subject:nominal_fire_time — the UNIQUE that makes N replicas create one run.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus), default=RunStatus.QUEUED)
    scheduled_for: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None]
    # Fencing epoch: bumped on every claim; writes carrying an older epoch are refused.
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    brain_version: Mapped[int | None] = mapped_column(Integer)
    insight_version: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    model_override: Mapped[str | None] = mapped_column(String(200))
    replay_of_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    side_effects: Mapped[bool] = mapped_column(Boolean, default=True)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class Step(IdMixin, TimestampMixin, Base):
    """The run's journal: the audit trail, and the checkpoint a resumed run replays."""

    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("run_id", "seq"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[StepKind] = mapped_column(_enum(StepKind))
    name: Mapped[str] = mapped_column(String(120))
    input: Mapped[dict[str, Any]] = mapped_column(default=dict)
    output: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cost_usd: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    epoch: Mapped[int] = mapped_column(Integer, default=0)


class Decision(IdMixin, TimestampMixin, Base):
    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_venture_created", "venture_id", "created_at"),
        Index("ix_decisions_venture_category", "venture_id", "category", "id"),
        # Newest first across every venture ("what failed last quarter?"): see migration 0003.
        Index("ix_decisions_created", "created_at"),
        # A reply in a thread finds the decision whose message it answers: see migration 0013.
        Index("ix_decisions_slack_post", "slack_ts", "slack_channel_id"),
        # A replayed step must not store the same decision twice.
        UniqueConstraint("run_id", "ordinal"),
    )

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    ordinal: Mapped[int] = mapped_column(Integer, default=0)
    venture_id: Mapped[int] = mapped_column(ForeignKey("ventures.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    category: Mapped[str] = mapped_column(String(48))
    title: Mapped[str] = mapped_column(String(200))
    rationale: Mapped[str] = mapped_column(Text, default="")
    expected_effect: Mapped[str] = mapped_column(Text, default="")
    amount_usd: Mapped[Decimal | None] = mapped_column(Money)
    status: Mapped[DecisionStatus] = mapped_column(
        _enum(DecisionStatus), default=DecisionStatus.PROPOSED
    )
    brain_version: Mapped[int | None] = mapped_column(Integer)
    insight_version: Mapped[int | None] = mapped_column(Integer)
    follows_insight: Mapped[str | None] = mapped_column(Text)
    slack_channel_id: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    executed_at: Mapped[datetime | None]


class GatePolicyVersion(IdMixin, TimestampMixin, Base):
    """The gate policy as applied by `lumen sync`; a change is a new version."""

    __tablename__ = "gate_policy_versions"

    version: Mapped[int] = mapped_column(Integer, unique=True)
    checksum: Mapped[str] = mapped_column(String(64))
    policy: Mapped[dict[str, Any]] = mapped_column()


class Approval(IdMixin, TimestampMixin, Base):
    __tablename__ = "approvals"
    __table_args__ = (
        Index("ix_approvals_status_expires", "status", "expires_at"),
        # A wake-up reads its venture's latest rejections: bounded, whatever the history.
        Index("ix_approvals_venture_status_resolved", "venture_id", "status", "resolved_at"),
        # A reply in an approval message's thread finds its decision.
        Index("ix_approvals_message", "message_ts", "channel_id"),
    )

    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), unique=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    venture_id: Mapped[int] = mapped_column(ForeignKey("ventures.id"))
    status: Mapped[ApprovalStatus] = mapped_column(
        _enum(ApprovalStatus), default=ApprovalStatus.PENDING
    )
    policy_version: Mapped[int | None] = mapped_column(Integer)
    approvers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    quorum: Mapped[int] = mapped_column(Integer, default=1)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[datetime]
    next_reminder_at: Mapped[datetime | None]
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)


class HumanQuestion(IdMixin, TimestampMixin, Base):
    """A question an agent asked its venture's approvers instead of deciding (`ask_human`).

    Like an approval: answered exactly once (one conditional UPDATE), with an expiry,
    reminders and the approvers frozen when it opened; the paused run resumes with the answer.
    """

    __tablename__ = "human_questions"
    __table_args__ = (
        Index("ix_human_questions_status_expires", "status", "expires_at"),
        # A wake-up's context: the venture's open questions and its latest answers.
        Index("ix_human_questions_venture_status_answered", "venture_id", "status", "answered_at"),
        # A replayed step must not ask the same question twice.
        UniqueConstraint("run_id", "ordinal"),
    )

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    ordinal: Mapped[int] = mapped_column(Integer, default=0)  # the run's first, second… question
    venture_id: Mapped[int] = mapped_column(ForeignKey("ventures.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    question: Mapped[str] = mapped_column(Text)
    options: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[QuestionStatus] = mapped_column(_enum(QuestionStatus), default=QuestionStatus.PENDING)
    approvers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[datetime]
    next_reminder_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[datetime | None]


class ApprovalVote(IdMixin, TimestampMixin, Base):
    """One approver's vote; a 2-of-N gate resolves when enough votes agree."""

    __tablename__ = "approval_votes"
    __table_args__ = (UniqueConstraint("approval_id", "user_id"),)

    approval_id: Mapped[int] = mapped_column(ForeignKey("approvals.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    approve: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)


class Outcome(IdMixin, TimestampMixin, Base):
    """What a decision led to. Several may exist; none overwrites another."""

    __tablename__ = "outcomes"

    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    verdict: Mapped[Verdict] = mapped_column(_enum(Verdict))
    metric: Mapped[str | None] = mapped_column(String(80))
    metric_before: Mapped[float | None]
    metric_after: Mapped[float | None]
    note: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[str | None] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(16), default="slack")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("outcomes.id"))


class BrainVersion(IdMixin, TimestampMixin, Base):
    __tablename__ = "brain_versions"
    __table_args__ = (UniqueConstraint("venture_id", "version"),)

    venture_id: Mapped[int] = mapped_column(ForeignKey("ventures.id"))
    version: Mapped[int] = mapped_column(Integer)
    # Idempotency per ISO week across replicas, e.g. "2026-W47"; NULL for on-demand builds.
    period: Mapped[str | None] = mapped_column(String(16))
    principles: Mapped[list[Any]] = mapped_column(default=list)
    worked: Mapped[list[Any]] = mapped_column(default=list)
    failed: Mapped[list[Any]] = mapped_column(default=list)
    open_bets: Mapped[list[Any]] = mapped_column(default=list)
    questions: Mapped[list[Any]] = mapped_column(default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    diff: Mapped[dict[str, Any]] = mapped_column(default=dict)
    built_from: Mapped[list[Any]] = mapped_column(default=list)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    model: Mapped[str | None] = mapped_column(String(200))
    # The weekly chart (success rate and spend per version) once uploaded to Slack.
    chart_file_id: Mapped[str | None] = mapped_column(String(64))
    chart_alt: Mapped[str | None] = mapped_column(Text)  # the chart's numbers, in words


class PlatformInsight(IdMixin, TimestampMixin, Base):
    __tablename__ = "platform_insights"

    version: Mapped[int] = mapped_column(Integer, unique=True)
    period: Mapped[str | None] = mapped_column(String(16), unique=True)
    # The ISO week the insights cover: "which insights were in force" has one answer.
    covers: Mapped[str | None] = mapped_column(String(16))
    insights: Mapped[list[Any]] = mapped_column(default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    diff: Mapped[dict[str, Any]] = mapped_column(default=dict)
    built_from: Mapped[list[Any]] = mapped_column(default=list)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))


class Spend(IdMixin, TimestampMixin, Base):
    """One row per LLM call, attributed to a run, an agent and a venture."""

    __tablename__ = "spend"
    __table_args__ = (
        Index("ix_spend_venture_created", "venture_id", "created_at"),
        Index("ix_spend_agent_created", "agent_id", "created_at"),
        Index("ix_spend_created", "created_at"),
        Index("ix_spend_model_created", "model", "created_at"),
    )

    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    venture_id: Mapped[int | None] = mapped_column(ForeignKey("ventures.id"))
    model: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(48), default="decide")
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    # Reserved before the call, settled after: budgets hold even under concurrency.
    settled: Mapped[bool] = mapped_column(Boolean, default=True)
    # What the reservation estimated, before calibration: billed / estimated calibrates the model.
    estimate_usd: Mapped[Decimal | None] = mapped_column(Money)


class OutboxMessage(IdMixin, TimestampMixin, Base):
    """A Slack side effect, written in the transaction that caused it, delivered later."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    )

    # The same side effect asked for twice (a replayed step) is one row.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    method: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[OutboxStatus] = mapped_column(
        _enum(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    # What to record the delivered message's ts on, e.g. {"decision": 12}.
    ref: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column()
    sent_at: Mapped[datetime | None]
    # The dispatcher holding the row (until next_attempt_at): writes after the call need it.
    claim_token: Mapped[str | None] = mapped_column(String(32))


class SlackEventReceipt(Base):
    """Events API deliveries seen, so Slack's retries run nothing twice; and, until one is
    handled, who is handling it and the body another replica would handle it from."""

    __tablename__ = "slack_event_receipts"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None]
    handled_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    body: Mapped[dict[str, Any] | None] = mapped_column()


class ConversationThread(Base):
    """A thread in which people talk to an agent that no decision of its started: one opened
    by `@Lumen acme cmo …`. Its later replies wake the same agent without naming it again."""

    __tablename__ = "conversation_threads"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    thread_ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = [
    "Agent",
    "AgentStatus",
    "Approval",
    "ApprovalStatus",
    "ApprovalVote",
    "Base",
    "BigId",
    "BrainVersion",
    "ConversationThread",
    "Decision",
    "DecisionStatus",
    "GatePolicyVersion",
    "HumanQuestion",
    "OutboxMessage",
    "OutboxStatus",
    "Outcome",
    "PlatformInsight",
    "QuestionStatus",
    "Run",
    "RunKind",
    "RunStatus",
    "RunTrigger",
    "SlackEventReceipt",
    "Spend",
    "Step",
    "StepKind",
    "Venture",
    "Verdict",
]


class RateLimitWindow(Base):
    """How many requests one person made of one kind in one minute, shared by the replicas."""

    __tablename__ = "rate_limit_windows"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # kind:user:minute
    count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    window_start: Mapped[datetime] = mapped_column(index=True)
