"""Recording a proposed decision: classify it by the gate policy, store it, queue its post.

Everything here runs inside the journal step's transaction, so a decision, its
approval and its Slack post are committed together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lumen.agents.schema import ProposedDecision
from lumen.db.base import utcnow
from lumen.db.models import (
    Agent,
    Approval,
    ApprovalStatus,
    Decision,
    DecisionStatus,
    GatePolicyVersion,
    Venture,
)
from lumen.domain.gates import EffectiveRule
from lumen.approvals.messages import queue_approval_post
from lumen.engine import outbox
from lumen.slack.blocks.decisions import DecisionCard, decision_blocks, decision_text


@dataclass(frozen=True)
class DecisionInput:
    run_id: int
    ordinal: int
    proposed: ProposedDecision
    brain_version: int | None
    insight_version: int | None
    model: str
    cost_usd: Decimal


def approvers_json(rule: EffectiveRule) -> dict[str, Any]:
    """Who may approve, and the rule's timing, frozen onto the approval when it is created."""
    return {
        "on_expiry": rule.on_expiry,
        "expiry_hours": rule.expiry_hours,
        "reminder_hours": rule.reminder_hours,
        "users": list(rule.approvers.users),
        "usergroups": list(rule.approvers.usergroups),
        "channels": list(rule.approvers.channels),
        "backup_users": list(rule.backup_approvers.users),
        "backup_usergroups": list(rule.backup_approvers.usergroups),
        "backup_channels": list(rule.backup_approvers.channels),
    }


def channel_of(venture: Venture) -> str:
    return venture.channel_id or f"#{venture.channel}"


async def record_decision(
    session: AsyncSession,
    venture: Venture,
    agent: Agent,
    item: DecisionInput,
    rule: EffectiveRule | None,
) -> Decision:
    """Store the decision and queue what Slack should see.

    Runs inside the journal step that records it, so a replay never gets here twice;
    UNIQUE(run_id, ordinal) stands behind that.
    """
    proposed = item.proposed
    gated = rule is not None and rule.applies_to(proposed.amount_usd)
    now = utcnow()
    decision = Decision(
        run_id=item.run_id,
        ordinal=item.ordinal,
        venture_id=venture.id,
        agent_id=agent.id,
        category=proposed.category,
        title=proposed.title,
        rationale=proposed.rationale,
        expected_effect=proposed.expected_effect,
        amount_usd=proposed.amount_usd,
        status=DecisionStatus.AWAITING_APPROVAL if gated else DecisionStatus.EXECUTED,
        brain_version=item.brain_version,
        insight_version=item.insight_version,
        follows_insight=proposed.follows_insight,
        executed_at=None if gated else now,
        resolved_at=None if gated else now,
        created_at=now,
    )
    session.add(decision)
    await session.flush()
    if gated:
        assert rule is not None
        policy_version = await session.scalar(select(GatePolicyVersion.version).order_by(GatePolicyVersion.version.desc()).limit(1))
        approval = Approval(
            decision_id=decision.id,
            run_id=item.run_id,
            venture_id=venture.id,
            status=ApprovalStatus.PENDING,
            policy_version=policy_version,
            approvers=approvers_json(rule),
            quorum=rule.quorum,
            expires_at=now + timedelta(hours=rule.expiry_hours),
            next_reminder_at=now + timedelta(hours=rule.reminder_hours),
            created_at=now,
        )
        session.add(approval)
        await session.flush()
        await queue_approval_post(session, approval, channel_of(venture))
        return decision
    await queue_decision_post(session, venture, agent, decision, item.model, item.cost_usd)
    return decision


async def queue_decision_post(
    session: AsyncSession, venture: Venture, agent: Agent, decision: Decision, model: str, cost_usd: Decimal
) -> None:
    card = DecisionCard(
        id=decision.id,
        venture=venture.slug,
        agent_role=agent.role,
        category=decision.category,
        title=decision.title,
        rationale=decision.rationale,
        expected_effect=decision.expected_effect,
        amount_usd=decision.amount_usd,
        status=decision.status.value,
        brain_version=decision.brain_version,
        run_id=decision.run_id,
        cost_usd=cost_usd,
        model=model,
        follows_insight=decision.follows_insight,
    )
    await outbox.enqueue(
        session,
        "chat.postMessage",
        {"channel": channel_of(venture), "text": decision_text(card), "blocks": decision_blocks(card)},
        dedupe_key=f"decision:{decision.id}:post",
        ref={"decision_id": decision.id},
    )


async def execute_approved(
    session: AsyncSession, decision_id: int, model: str, cost_usd: Decimal
) -> None:
    """An approved decision is carried out and posted, once."""
    decision = await session.get(Decision, decision_id)
    assert decision is not None
    if decision.status != DecisionStatus.APPROVED:
        return
    decision.status = DecisionStatus.EXECUTED
    decision.executed_at = utcnow()
    venture = await session.get(Venture, decision.venture_id)
    agent = await session.get(Agent, decision.agent_id)
    assert venture is not None and agent is not None
    await queue_decision_post(session, venture, agent, decision, model, cost_usd)
